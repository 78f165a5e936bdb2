//! The two text corpora: API-style JSON records (12.1) and an HTML document (12.4).

use std::fmt::Write as _;

use rand::Rng;

use super::{ENGLISH, Gen, HTML_LEN, JSON_LEN, fill_ascii, phrase, pick, seeded, sentence, words};

// ----- 12.1 JSON -----------------------------------------------------------------------------------------------

/// Word lists for the JSON records: first names, last names, cities, streets, tags, companies, roles.
const JSON_WORDS: [&str; 7] = [
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph \
     Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Betty Mark Sandra Donald Ashley Steven \
     Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah",
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson \
     Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis \
     Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall",
    "Springfield Riverside Franklin Greenville Bristol Clinton Fairview Salem Madison Georgetown Arlington Ashland \
     Burlington Manchester Oxford Clayton Dayton Jackson Milford Newport",
    "Maple Oak Pine Cedar Elm Washington Lake Hill Park Main Church Highland Sunset Willow River",
    "alpha beta gamma delta premium trial enterprise legacy mobile desktop early-adopter verified partner reseller \
     internal vip churn-risk newsletter support beta-tester",
    "ACME GLOBEX INITECH UMBRELLA HOOLI VANDELAY STARKWORKS TYRELL CYBERDYNE SOYLENT WONKA",
    "admin editor viewer owner billing support analyst developer",
];

pub(super) fn json() -> Vec<u8> {
    const TAIL: &str = "\"\n  }\n]\n";
    let mut r = seeded(0x4a53_4f4e_0012_0001);
    let lists = JSON_WORDS.map(words);
    let english = words(ENGLISH);
    let mut out = String::with_capacity(JSON_LEN);
    out.push_str("[\n");
    for id in 0.. {
        let mark = out.len();
        json_record_head(&mut r, &lists, id, &mut out);
        if out.len() + 2048 > JSON_LEN {
            // Out of room: redo this record as the last one, whose note absorbs the remaining bytes exactly.
            out.truncate(mark);
            json_record_head(&mut r, &lists, id, &mut out);
            fill_ascii(&mut r, &english, &mut out, JSON_LEN - TAIL.len());
            break;
        }
        phrase(&mut r, &english, 4..14, &mut out);
        out.push_str("\"\n  },\n");
    }
    out.push_str(TAIL);
    out.into_bytes()
}

/// Writes one pretty-printed record up to the opening quote of its final `note` string.
fn json_record_head(r: &mut Gen, l: &[Vec<&str>; 7], id: usize, out: &mut String) {
    let n = |r: &mut Gen, below: u32| r.random_range(0..below);
    let (first, last, company) = (pick(r, &l[0]), pick(r, &l[1]), pick(r, &l[5]));
    let h = format!("{:032x}", r.random::<u128>());
    let guid = format!("{}-{}-4{}-{}-{}", &h[..8], &h[8..12], &h[13..16], &h[16..20], &h[20..]);
    let _ = write!(
        out,
        "  {{\n    \"id\": {id},\n    \"guid\": \"{guid}\",\n    \"isActive\": {},\n",
        r.random_ratio(2, 3)
    );
    let _ = write!(out, "    \"balance\": {}.{:02},\n    \"age\": {},\n", n(r, 9000), n(r, 100), 18 + n(r, 60));
    let _ = writeln!(out, "    \"name\": {{ \"first\": \"{first}\", \"last\": \"{last}\" }},");
    let email = format!("{first}.{last}@{company}.example.com").to_ascii_lowercase();
    let _ = write!(out, "    \"company\": \"{company}\",\n    \"email\": \"{email}\",\n");
    let _ = writeln!(out, "    \"phone\": \"+1 ({}) {}-{:04}\",", 200 + n(r, 790), 200 + n(r, 790), n(r, 10_000));
    let _ = write!(out, "    \"address\": {{ \"street\": \"{} {} Street\", ", 1 + n(r, 2000), pick(r, &l[3]));
    let _ = writeln!(out, "\"city\": \"{}\", \"zip\": \"{:05}\" }},", pick(r, &l[2]), n(r, 100_000));
    let (north, east) = ((25 + n(r, 23), n(r, 1_000_000)), (70 + n(r, 52), n(r, 1_000_000)));
    let _ =
        writeln!(out, "    \"geo\": {{ \"lat\": {}.{:06}, \"lng\": -{}.{:06} }},", north.0, north.1, east.0, east.1);
    let (year, month, day) = (2010 + n(r, 15), 1 + n(r, 12), 1 + n(r, 28));
    let (hour, min, sec) = (n(r, 24), n(r, 60), n(r, 60));
    let _ = write!(out, "    \"role\": \"{}\",\n    \"registered\": ", pick(r, &l[6]));
    let _ = write!(out, "\"{year}-{month:02}-{day:02}T{hour:02}:{min:02}:{sec:02}Z\",\n    \"tags\": [");
    for i in 0..=n(r, 5) {
        let _ = write!(out, "{}\"{}\"", if i > 0 { ", " } else { "" }, pick(r, &l[4]));
    }
    out.push_str("],\n    \"friends\": [");
    let friends = n(r, 4);
    for i in 0..friends {
        let (id, first, last) = (n(r, 400), pick(r, &l[0]), pick(r, &l[1]));
        let _ = write!(out, "{}\n      {{ \"id\": {id}, \"name\": \"{first} {last}\" }}", if i > 0 { "," } else { "" });
    }
    out.push_str(if friends > 0 { "\n    ],\n    \"note\": \"" } else { "],\n    \"note\": \"" });
}

// ----- 12.4 HTML ----------------------------------------------------------------------------------------------

const HTML_HEAD: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Protocol Notes and Reference</title>\n\
<style>\nbody { font-family: Georgia, serif; margin: 0 auto; max-width: 52em; color: #222; line-height: 1.5; }\n\
header, footer { background: #f4f4f4; padding: 1em 2em; }\nnav ul { list-style: none; padding: 0; }\n\
nav li { display: inline; margin-right: 1em; }\ntable.data { border-collapse: collapse; width: 100%; }\n\
table.data th, table.data td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }\n\
code { font-family: Menlo, Consolas, monospace; background: #eee; }\n.note { color: #666; font-size: 0.9em; }\n\
</style>\n</head>\n<body>\n<header>\n<h1>Protocol Notes and Reference</h1>\n<nav><ul>\n\
<li><a href=\"#s1\">Overview</a></li>\n<li><a href=\"#s2\">Framing</a></li>\n<li><a href=\"#s3\">Extensions</a></li>\n\
<li><a href=\"#offices\">Offices</a></li>\n</ul></nav>\n</header>\n<main>\n";

/// Distinct sections the document is assembled from.
const HTML_SECTION_POOL: usize = 7;

/// Closing part of the document; it holds all 27 non-ASCII characters (each in U+00A0..U+00FF).
const HTML_TAIL: &str = "<section id=\"offices\">\n<h2>Regional offices</h2>\n<table class=\"data\">\n\
<tr><th>City</th><th>Country</th><th>Contact</th></tr>\n\
<tr><td>Zürich</td><td>Switzerland</td><td>Jürg Müller</td></tr>\n\
<tr><td>Malmö</td><td>Sweden</td><td>Åsa Öberg</td></tr>\n\
<tr><td>São Paulo</td><td>Brazil</td><td>João Gonçalves</td></tr>\n\
<tr><td>Reykjavík</td><td>Iceland</td><td>Þóra Sigurðardóttir</td></tr>\n\
<tr><td>Málaga</td><td>Spain</td><td>José Núñez</td></tr>\n\
<tr><td>Besançon</td><td>France</td><td>Hélène Lefèvre</td></tr>\n\
<tr><td>Århus</td><td>Denmark</td><td>Søren Kjær</td></tr>\n</table>\n</section>\n</main>\n\
<footer><p>© 2024 Example Networks · All rights reserved.</p></footer>\n</body>\n</html>\n";

/// Appends a paragraph of English sentences with occasional inline markup.
fn html_paragraph(r: &mut Gen, w: &[&str], out: &mut String) {
    out.push_str("<p>");
    for i in 0..r.random_range(2..7) {
        out.push_str(if i > 0 { " " } else { "" });
        sentence(r, w, 6, 18, out);
        let (a, b) = (pick(r, w), pick(r, w));
        let _ = match r.random_range(0..6) {
            0 => write!(out, " See <a href=\"/docs/{a}/{}.html\">{a} {b}</a>.", r.random_range(1..300)),
            1 => write!(out, " <em>{a}</em> {b}."),
            2 => write!(out, " The <code>{a}_{b}</code> field is <strong>required</strong>."),
            _ => Ok(()),
        };
    }
    out.push_str("</p>\n");
}

/// Appends the rest of one `<section>` after its numbered opening: the
/// heading's text, paragraphs and sometimes a table and a list.
fn html_section(r: &mut Gen, w: &[&str], out: &mut String) {
    sentence(r, w, 2, 5, out);
    out.push_str("</h2>\n");
    for _ in 0..r.random_range(2..6) {
        html_paragraph(r, w, out);
    }
    if r.random_ratio(1, 2) {
        out.push_str("<table class=\"data\">\n<thead><tr><th>Item</th><th>Qty</th><th>Price</th><th>Status</th>");
        out.push_str("</tr></thead>\n<tbody>\n");
        for _ in 0..r.random_range(3..12) {
            let (item, kind, qty, cents) = (pick(r, w), pick(r, w), r.random_range(1..500), r.random_range(99..99_999));
            let status = ["ok", "pending", "failed", "shipped"][r.random_range(0..4)];
            let _ = write!(out, "<tr><td>{item} {kind}</td><td>{qty}</td><td>{}.{:02}</td>", cents / 100, cents % 100);
            let _ = writeln!(out, "<td class=\"{status}\">{status}</td></tr>");
        }
        out.push_str("</tbody>\n</table>\n");
    }
    if r.random_ratio(1, 2) {
        out.push_str("<h3>Notes</h3>\n<ul>\n");
        for _ in 0..r.random_range(2..8) {
            out.push_str("<li>");
            sentence(r, w, 3, 10, out);
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

pub(super) fn html() -> Vec<u8> {
    let mut r = seeded(0x4854_4d4c_0012_0004);
    let w = words(ENGLISH);
    let mut out = String::with_capacity(HTML_LEN);
    out.push_str(HTML_HEAD);
    // Sections come from a small pool, as a generated page repeats its
    // templates: the document deflates about as well as the data it stands
    // for (the reference's 12.4 messages compress to ~0.055), which decides
    // whether a 128 Ki-character message still fits one 32 KiB frame (12.4.18).
    let pool: Vec<String> = (0..HTML_SECTION_POOL)
        .map(|_| {
            let mut section = String::new();
            html_section(&mut r, &w, &mut section);
            section
        })
        .collect();
    for n in 1.. {
        let mark = out.len();
        let _ = write!(out, "<section id=\"s{n}\">\n<h2>{n}. ");
        out.push_str(&pool[r.random_range(0..pool.len())]);
        if out.len() + HTML_TAIL.len() + 256 > HTML_LEN {
            out.truncate(mark);
            break;
        }
    }
    // A final note paragraph soaks up the remaining bytes.
    out.push_str("<p class=\"note\">");
    fill_ascii(&mut r, &w, &mut out, HTML_LEN - HTML_TAIL.len() - "</p>\n".len());
    out.push_str("</p>\n");
    out.push_str(HTML_TAIL);
    out.into_bytes()
}
