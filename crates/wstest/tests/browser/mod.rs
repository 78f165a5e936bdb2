//! Headless Chromium driven over the DevTools protocol (JSON over a
//! WebSocket — autostrada's client speaks it): open a page at a given
//! width, collect console errors, list its sections, measure its width,
//! take a full-page screenshot.

use std::path::{Path, PathBuf};
use std::time::Duration;

use autostrada::{ClientBuilder, Config, Message, WebSocket};
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;

/// How long any one step may take before the test gives up.
const STEP: Duration = Duration::from_secs(60);

/// The Chromium to use: `WSTEST_CHROMIUM`, else `chromium` on the PATH.
pub fn find() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WSTEST_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("chromium")).find(|p| p.is_file())
}

/// What a page showed.
pub struct Seen {
    /// Console errors, uncaught exceptions and failed loads.
    pub errors: Vec<String>,
    /// The ids of its `<section>`s, in order.
    pub sections: Vec<String>,
    /// The document's width in CSS pixels.
    pub scroll_width: u64,
    /// A full-page PNG.
    pub screenshot: Vec<u8>,
}

/// A running headless Chromium with one tab.
pub struct Browser {
    child: tokio::process::Child,
    ws: WebSocket<autostrada::MaybeTlsStream<tokio::net::TcpStream>>,
    session: String,
    next_id: u64,
    events: Vec<Value>,
    profile: PathBuf,
}

impl Browser {
    /// Starts Chromium and attaches to a blank tab.
    pub async fn launch(chromium: &Path) -> Self {
        let profile = std::env::temp_dir().join(format!("wstest-chromium-{}", std::process::id()));
        let mut child = tokio::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
        // Chromium names its DevTools endpoint on stderr once it listens.
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        let url = tokio::time::timeout(STEP, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    return url.trim().to_owned();
                }
            }
            panic!("chromium ended without a DevTools endpoint");
        })
        .await
        .expect("chromium did not open its DevTools endpoint within a minute");
        // Keep draining stderr so Chromium never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let mut config = Config::default();
        // Full-page screenshots come back as one base64 message.
        config.max_message_size = 512 << 20;
        config.max_frame_size = 512 << 20;
        let (ws, _) = ClientBuilder::new().config(config).connect(&url).await.expect("DevTools WebSocket");
        let mut b = Self { child, ws, session: String::new(), next_id: 0, events: Vec::new(), profile };
        let target = b.call("Target.createTarget", json!({"url": "about:blank"}), false).await;
        let target_id = target["targetId"].as_str().expect("targetId").to_owned();
        let attached = b.call("Target.attachToTarget", json!({"targetId": target_id, "flatten": true}), false).await;
        b.session = attached["sessionId"].as_str().expect("sessionId").to_owned();
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            b.call(domain, json!({}), true).await;
        }
        b
    }

    async fn read(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(STEP, self.ws.next())
                .await
                .expect("no DevTools message within a minute")
                .expect("DevTools connection closed")
                .expect("DevTools connection failed");
            if let Message::Text(t) = msg {
                return serde_json::from_str(t.as_str()).expect("DevTools sent JSON");
            }
        }
    }

    /// Sends a command (to the tab when `in_tab`) and returns its result;
    /// events that arrive meanwhile are kept.
    async fn call(&mut self, method: &str, params: Value, in_tab: bool) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if in_tab {
            msg["sessionId"] = json!(self.session);
        }
        self.ws.send(Message::text(msg.to_string())).await.expect("send to DevTools");
        loop {
            let m = self.read().await;
            if m["id"] == json!(id) {
                assert!(m.get("error").is_none(), "{method} failed: {}", m["error"]);
                return m["result"].clone();
            }
            self.events.push(m);
        }
    }

    /// Waits for the tab's event `name`.
    async fn wait_for(&mut self, name: &str) {
        if let Some(i) = self.events.iter().position(|e| e["method"] == json!(name)) {
            self.events.remove(i);
            return;
        }
        loop {
            let m = self.read().await;
            if m["method"] == json!(name) {
                return;
            }
            self.events.push(m);
        }
    }

    /// Opens `file` at `width` CSS pixels and reports what it showed.
    pub async fn open(&mut self, file: &Path, width: u64, mobile: bool) -> Seen {
        let metrics = json!({"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": mobile});
        self.call("Emulation.setDeviceMetricsOverride", metrics, true).await;
        self.events.clear();
        let url = format!("file://{}", file.canonicalize().expect("page exists").display());
        self.call("Page.navigate", json!({"url": url}), true).await;
        self.wait_for("Page.loadEventFired").await;
        let probe = "({sections: [...document.querySelectorAll('section')].map(s => s.id), \
                     width: document.documentElement.scrollWidth})";
        let r = self.call("Runtime.evaluate", json!({"expression": probe, "returnByValue": true}), true).await;
        let value = &r["result"]["value"];
        let sections = value["sections"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let shot =
            self.call("Page.captureScreenshot", json!({"format": "png", "captureBeyondViewport": true}), true).await;
        let screenshot = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("screenshot is base64");
        let errors = self.events.iter().filter_map(error_of).collect();
        Seen { errors, sections, scroll_width: value["width"].as_u64().unwrap_or(u64::MAX), screenshot }
    }

    /// Closes the browser.
    pub async fn close(mut self) {
        let _ = self.ws.close(autostrada::CloseCode::NORMAL, "").await;
        let _ = self.child.kill().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// The error an event reports, if it is one.
fn error_of(e: &Value) -> Option<String> {
    let p = &e["params"];
    match e["method"].as_str()? {
        "Runtime.exceptionThrown" => Some(format!("exception: {}", p["exceptionDetails"])),
        "Runtime.consoleAPICalled" if p["type"] == json!("error") => Some(format!("console.error: {}", p["args"])),
        "Log.entryAdded" if p["entry"]["level"] == json!("error") => Some(format!("{}", p["entry"]["text"])),
        _ => None,
    }
}
