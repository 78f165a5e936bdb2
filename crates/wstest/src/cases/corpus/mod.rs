//! Synthetic test-data corpora for the compression cases (12.x).
//!
//! Every corpus is produced by our own generators from a fixed seed (`ChaCha8Rng`) with integer arithmetic only, so
//! the bytes are identical on every run and platform. A corpus is built on first use and cached for the life of
//! the process. The content only has to *behave* like the data it stands for: exact size, encoding, and roughly
//! how well it deflates (raw deflate at level 6: JSON ~0.22, bitmap ~0.69, German verse ~0.37, HTML ~0.055 (its
//! sections repeat, as a generated page's do), PDF ~0.92). Generators: `text.rs` (JSON, HTML), `german.rs` (the
//! verse drama), `binary.rs` (bitmap, PDF).

mod binary;
mod german;
mod text;

use std::sync::OnceLock;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const JSON_LEN: usize = 194_056;
const BMP_LEN: usize = 263_222;
const FAUST_LEN: usize = 222_218;
const HTML_LEN: usize = 263_647;
const PDF_LEN: usize = 1_042_328;

/// One of the five corpora.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Corpus {
    /// Pretty-printed API-style JSON records, pure ASCII.
    Json,
    /// A 512x512 8-bit grayscale Windows BMP image.
    Bitmap,
    /// German verse drama in UTF-8 (sent as binary).
    Faust,
    /// An HTML document, ASCII apart from 27 two-byte characters.
    Html,
    /// A PDF-like file made mostly of deflated and high-entropy streams.
    Pdf,
}

type Generator = fn() -> Vec<u8>;

/// Per corpus, in [`Corpus::ALL`] order: exact size, whether it is sent as text, label, generator.
const INFO: [(usize, bool, &str, Generator); 5] = [
    (JSON_LEN, true, "JSON data (UTF-8)", text::json),
    (BMP_LEN, false, "BMP image 512x512 grayscale (binary)", binary::bitmap),
    (FAUST_LEN, false, "German verse text (binary)", german::faust),
    (HTML_LEN, true, "HTML document (UTF-8)", text::html),
    (PDF_LEN, false, "PDF document (binary)", binary::pdf),
];

impl Corpus {
    /// All five in the order the cases use them: Json (12.1), Bitmap (12.2), Faust (12.3), Html (12.4), Pdf (12.5).
    pub const ALL: [Corpus; 5] = [Corpus::Json, Corpus::Bitmap, Corpus::Faust, Corpus::Html, Corpus::Pdf];

    /// The corpus's bytes, generated on first use and cached for the life of the process.
    #[must_use]
    pub fn bytes(self) -> &'static [u8] {
        static CACHE: [OnceLock<Vec<u8>>; 5] = [const { OnceLock::new() }; 5];
        CACHE[self as usize].get_or_init(|| self.generate())
    }

    /// True when the cases treat the data as UTF-8 text (Json, Html); Faust is German prose but is sent as binary.
    #[must_use]
    pub fn is_text(self) -> bool {
        INFO[self as usize].1
    }

    /// Exact size of the corpus in bytes.
    #[must_use]
    #[allow(clippy::len_without_is_empty)] // a corpus is never empty
    pub fn len(self) -> usize {
        INFO[self as usize].0
    }

    /// A short human label, e.g. "JSON data (UTF-8)".
    #[must_use]
    pub fn label(self) -> &'static str {
        INFO[self as usize].2
    }

    /// Builds the corpus from scratch, bypassing the cache.
    fn generate(self) -> Vec<u8> {
        let data = (INFO[self as usize].3)();
        assert_eq!(data.len(), self.len(), "{self:?} corpus has the wrong size");
        data
    }
}

// ----- Shared helpers ------------------------------------------------------------------------------------------

type Gen = ChaCha8Rng;

fn seeded(seed: u64) -> Gen {
    Gen::seed_from_u64(seed)
}

/// Splits a space-separated word list.
fn words(list: &'static str) -> Vec<&'static str> {
    list.split_ascii_whitespace().collect()
}

fn pick<'a>(r: &mut Gen, list: &[&'a str]) -> &'a str {
    list[r.random_range(0..list.len())]
}

/// Appends a random number (in `count`) of random words from `list`, separated by single spaces.
fn phrase(r: &mut Gen, list: &[&str], count: std::ops::Range<usize>, out: &mut String) {
    for i in 0..r.random_range(count) {
        out.push_str(if i > 0 { " " } else { "" });
        out.push_str(pick(r, list));
    }
}

/// Appends ASCII words until `out` is exactly `len` bytes long.
fn fill_ascii(r: &mut Gen, list: &[&str], out: &mut String, len: usize) {
    assert!(out.len() <= len, "filler target already exceeded");
    while out.len() < len {
        out.push_str(pick(r, list));
        out.push(' ');
    }
    out.truncate(len);
}

/// Appends `s` with its first character upper-cased (`upper`) or lower-cased.
fn push_recased(out: &mut String, s: &str, upper: bool) {
    let mut chars = s.chars();
    let first: String = chars
        .next()
        .map_or_else(String::new, |c| if upper { c.to_uppercase().collect() } else { c.to_lowercase().collect() });
    out.push_str(&first);
    out.push_str(chars.as_str());
}

/// Appends an English sentence of `lo..hi` words, capitalised and ending in a full stop.
fn sentence(r: &mut Gen, list: &[&str], lo: usize, hi: usize, out: &mut String) {
    let mut s = String::new();
    phrase(r, list, lo..hi, &mut s);
    push_recased(out, &s, true);
    out.push('.');
}

const ENGLISH: &str = "the of and to in is that for it as was with be by on not he this are or his from at which \
    but have an they you were her she there been one all we their has would when if so no will more can its them \
    about into time some could these two may then first any only other new very after most also made over did many \
    before must through back years where much your way well down should because each just those people how too \
    little state good world still own see men work long here between both life being under never day same another \
    know while last might great old year off come since against go came right used take three small large number \
    system server client request response message frame payload buffer stream connection protocol header value \
    data window option extension handshake socket packet length offset record field table index cache queue";

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compress, Compression, FlushCompress, Status};
    use std::io::Read as _;

    /// Raw-deflate (level 6) output size in per mille of the input size.
    fn deflate_permille(data: &[u8]) -> usize {
        let mut c = Compress::new(Compression::new(6), false);
        let mut out = Vec::with_capacity(data.len() + data.len() / 8 + 1024);
        assert_eq!(c.compress_vec(data, &mut out, FlushCompress::Finish).unwrap(), Status::StreamEnd);
        out.len() * 1000 / data.len()
    }

    #[test]
    fn sizes_flags_and_labels() {
        let sizes = [194_056, 263_222, 222_218, 263_647, 1_042_328];
        for (c, size) in Corpus::ALL.into_iter().zip(sizes) {
            assert_eq!((c.len(), c.bytes().len()), (size, size), "{c:?}");
            assert_eq!(c.is_text(), matches!(c, Corpus::Json | Corpus::Html));
            assert!(!c.label().is_empty());
        }
        assert_eq!(Corpus::ALL.map(|c| c as usize), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn generation_is_deterministic() {
        for c in Corpus::ALL {
            assert!(c.generate() == c.bytes(), "{c:?} differs between two generations");
        }
    }

    /// FNV-1a, to pin the exact content: a change here means the corpora
    /// changed (or differ on this platform). The PDF is left out: its page
    /// streams are deflated by flate2, whose output may change between releases.
    #[test]
    fn content_is_pinned() {
        let fnv = |d: &[u8]| {
            d.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
        };
        let hashes = [Corpus::Json, Corpus::Bitmap, Corpus::Faust, Corpus::Html].map(|c| fnv(c.bytes()));
        let pinned = [0xe99e_1f10_eb3e_a3d2, 0x62dc_ce76_b726_589a, 0x21b4_2339_002a_e910, 0xde32_f752_c8cb_19e2];
        assert_eq!(hashes, pinned, "corpus content changed; update the pins only if that was intended");
    }

    #[test]
    fn deflate_ratios_are_realistic() {
        let ranges = [(100, 300), (600, 900), (350, 500), (30, 90), (800, 1000)];
        for (c, (lo, hi)) in Corpus::ALL.into_iter().zip(ranges) {
            let permille = deflate_permille(c.bytes());
            println!("{c:?}: raw deflate ratio 0.{permille:03}");
            assert!((lo..=hi).contains(&permille), "{c:?}: ratio {permille}/1000 outside {lo}..={hi}");
        }
    }

    #[test]
    fn json_is_ascii_and_valid() {
        let j = Corpus::Json.bytes();
        assert!(j.is_ascii());
        assert!(j.starts_with(b"[\n  {\n    \"id\": 0,"));
        let records: Vec<serde_json::Value> = serde_json::from_slice(j).expect("valid JSON");
        assert!(records.len() > 200 && records.iter().all(|r| r["id"].is_u64() && r["note"].is_string()));
    }

    #[test]
    fn bitmap_headers() {
        let b = Corpus::Bitmap.bytes();
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let u16_at = |o: usize| u16::from_le_bytes(b[o..o + 2].try_into().unwrap());
        assert_eq!(&b[..2], b"BM");
        assert_eq!([2, 6, 10, 14, 18, 22].map(u32_at), [263_222, 0, 1078, 40, 512, 512]);
        assert_eq!([u16_at(26), u16_at(28)], [1, 8]);
        assert_eq!([30, 34, 46].map(u32_at), [0, 262_144, 256]);
        assert!((0..=255u8).all(|i| b[54 + 4 * usize::from(i)..][..4] == [i, i, i, 0]));
        let mut seen = [false; 256];
        b[1078..].iter().for_each(|&p| seen[usize::from(p)] = true);
        assert!(seen.iter().filter(|&&s| s).count() > 150, "pixels should use most gray levels");
    }

    #[test]
    fn faust_is_german_utf8_verse() {
        let text = std::str::from_utf8(Corpus::Faust.bytes()).expect("valid UTF-8");
        assert!(['ä', 'ö', 'ü', 'Ä', 'Ö', 'Ü', 'ß'].iter().all(|&c| text.contains(c)));
        assert!(text.len() - text.chars().count() > 1000, "plenty of multi-byte characters");
        assert!(text.contains("\nFAUST:\n") && text.contains("\nMEPHISTOPHELES:\n"));
        assert!(text.lines().count() > 4000);
    }

    #[test]
    fn html_counts() {
        let h = std::str::from_utf8(Corpus::Html.bytes()).expect("valid UTF-8");
        assert_eq!((h.len(), h.chars().count()), (263_647, 263_620));
        let wide: Vec<char> = h.chars().filter(|c| !c.is_ascii()).collect();
        assert_eq!(wide.len(), 27);
        assert!(wide.iter().all(|&c| ('\u{a0}'..='\u{ff}').contains(&c)));
        assert!(h.starts_with("<!DOCTYPE html>\n<html") && h.ends_with("</body>\n</html>\n"));
        assert!(["<table", "<ul>", "<a href=", "<h2>", "<style>"].iter().all(|t| h.contains(t)));
    }

    #[test]
    fn pdf_structure() {
        let p = Corpus::Pdf.bytes();
        assert!(p.starts_with(b"%PDF-1.4\n%") && p[10..14].iter().all(|&b| b >= 0x80) && p[14] == b'\n');
        let tail = std::str::from_utf8(&p[p.len() - 30..]).unwrap();
        let xref: usize = tail.split("startxref\n").nth(1).unwrap().lines().next().unwrap().parse().unwrap();
        assert!(tail.ends_with("\n%%EOF\n") && p[xref..].starts_with(b"xref\n0 "));
        let table = std::str::from_utf8(&p[xref..]).unwrap();
        let (mut flate, mut plain, mut text) = (0, 0, 0);
        for (n, line) in table.lines().skip(3).take_while(|l| l.ends_with(" n ")).enumerate() {
            let at: usize = line[..10].parse().unwrap();
            let head = String::from_utf8_lossy(&p[at..p.len().min(at + 1024)]);
            assert!(head.starts_with(&format!("{} 0 obj\n<< ", n + 1)), "object {} misplaced", n + 1);
            let dict_end = head.find(">>\n").unwrap();
            if head[dict_end..].starts_with(">>\nstream\n") {
                let len: usize = head[..dict_end].rsplit("/Length ").next().unwrap().trim().parse().unwrap();
                let body = &p[at + dict_end + 10..][..len];
                assert!(p[at + dict_end + 10 + len..].starts_with(b"\nendstream\nendobj\n"));
                if head[..dict_end].contains("/FlateDecode") {
                    let mut decoded = Vec::new();
                    flate2::read::ZlibDecoder::new(body).read_to_end(&mut decoded).expect("genuine zlib data");
                    flate += 1;
                    text += usize::from(decoded.starts_with(b"BT\n"));
                } else {
                    plain += 1;
                }
            }
        }
        assert!(flate > plain && plain > 10 && text == 10, "{flate} deflated ({text} of text), {plain} plain streams");
    }
}
