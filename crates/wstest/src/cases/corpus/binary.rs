//! The two binary corpora: a grayscale bitmap (12.2) and a PDF-like document (12.5).

use std::fmt::Write as _;
use std::io::Write as _;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use rand::Rng;

use super::{BMP_LEN, ENGLISH, Gen, PDF_LEN, phrase, seeded, words};

// ----- 12.2 Bitmap ---------------------------------------------------------------------------------------------

/// A triangle wave of the given period, ranging over `-amp..=amp`.
fn tri(t: i32, period: i32, amp: i32) -> i32 {
    amp * (2 * (2 * t.rem_euclid(period) - period).abs() - period) / period
}

pub(super) fn bitmap() -> Vec<u8> {
    const SIDE: i32 = 512;
    let mut r = seeded(0x424d_5000_0012_0002);
    let mut out = Vec::with_capacity(BMP_LEN);
    out.extend_from_slice(b"BM");
    // File header (size, reserved, pixel offset), then BITMAPINFOHEADER (size, width, height, ...).
    for v in [u32::try_from(BMP_LEN).unwrap_or(0), 0, 1078, 40, 512, 512] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&[1, 0, 8, 0]); // one plane, 8 bits per pixel
    for v in [0u32, 512 * 512, 2835, 2835, 256, 0] {
        out.extend_from_slice(&v.to_le_bytes()); // no compression, image size, 72 dpi, colours used/important
    }
    for i in 0..=255u8 {
        out.extend_from_slice(&[i, i, i, 0]); // grayscale palette (blue, green, red, reserved)
    }
    // Soft paraboloid "objects" over a sky gradient and textured hills, plus sensor-like noise.
    let blobs: Vec<[i32; 4]> = (0..16)
        .map(|_| [r.random_range(0..SIDE), r.random_range(0..SIDE), r.random_range(20..120), r.random_range(-80..80)])
        .collect();
    for y in 0..SIDE {
        for x in 0..SIDE {
            let horizon = 180 + tri(x, 400, 50) + tri(x + 90, 130, 14);
            let mut v = if y > horizon {
                90 + (y - horizon) * 130 / (SIDE - horizon) + x * 25 / SIDE
            } else {
                40 + y * 60 / SIDE + tri(x * 3 + y * 7, 41, 8) + tri(x - y * 2, 97, 10)
            };
            for &[cx, cy, rad, amp] in &blobs {
                let d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
                if d2 < rad * rad {
                    v += amp * (rad * rad - d2) / (rad * rad);
                }
            }
            // Quantise a little (like a lossy source) before adding noise.
            v = v / 3 * 3 + r.random_range(-4..=4);
            out.push(u8::try_from(v.clamp(0, 255)).unwrap_or(0));
        }
    }
    out
}

// ----- 12.5 PDF ------------------------------------------------------------------------------------------------

/// Wraps `data` in a zlib stream, as a PDF `/FlateDecode` filter expects:
/// compressed (`compress`) for page text, or in stored blocks for random
/// bytes, as a compressor would leave them.
fn zlib(data: &[u8], compress: bool) -> Vec<u8> {
    let level = if compress { Compression::new(6) } else { Compression::none() };
    let mut z = ZlibEncoder::new(Vec::with_capacity(data.len() + data.len() / 8 + 64), level);
    // Writing into a Vec cannot fail.
    let _ = z.write_all(data);
    z.finish().unwrap_or_default()
}

/// `n` high-entropy bytes, standing in for embedded image or font data.
fn noise(r: &mut Gen, n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    r.fill(&mut v[..]);
    v
}

/// A PDF under construction: its bytes so far and the offset of each object (object `n` at index `n - 1`).
struct PdfWriter {
    out: Vec<u8>,
    offsets: Vec<usize>,
}

impl PdfWriter {
    /// Appends the next object with dictionary entries `dict` and, if given, a stream (adding its `/Length`).
    fn obj(&mut self, dict: &str, stream: Option<&[u8]>) {
        self.offsets.push(self.out.len());
        let n = self.offsets.len();
        match stream {
            Some(s) => {
                let _ = write!(self.out, "{n} 0 obj\n<< {dict} /Length {} >>\nstream\n", s.len());
                self.out.extend_from_slice(s);
                self.out.extend_from_slice(b"\nendstream\nendobj\n");
            }
            None => drop(write!(self.out, "{n} 0 obj\n<< {dict} >>\nendobj\n")),
        }
    }
}

/// The cross-reference table and trailer for objects at `offsets`, the table itself starting at byte `at`.
fn pdf_xref(offsets: &[usize], at: usize) -> String {
    let mut s = format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1);
    for off in offsets {
        let _ = writeln!(s, "{off:010} 00000 n ");
    }
    let _ = write!(s, "trailer\n<< /Size {} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{at}\n%%EOF\n", offsets.len() + 1);
    s
}

/// A page content stream: a title and a column of text lines, a rule and an image placement.
fn page_content(r: &mut Gen, w: &[&str], page: usize) -> String {
    let mut s = format!("BT\n/F1 16 Tf\n72 740 Td\n(Section {page}) Tj\n/F1 10 Tf\n12 TL\n0 -24 Td\n");
    for _ in 0..r.random_range(60..90) {
        s.push('(');
        phrase(r, w, 8..14, &mut s);
        s.push_str(") Tj T*\n");
    }
    let _ = write!(s, "ET\n0.6 g\n72 60 468 0.8 re f\nq\n180 0 0 140 {} 420 cm\n/Im1 Do\nQ\n", r.random_range(72..360));
    s
}

pub(super) fn pdf() -> Vec<u8> {
    const PAGES: usize = 30;
    const FIRST_PAGE: usize = 7; // objects 1..=6: catalog, page tree, font, font descriptor, font file, info
    let mut r = seeded(0x5044_4600_0012_0005);
    let w = words(ENGLISH);
    let mut doc = PdfWriter { out: Vec::with_capacity(PDF_LEN), offsets: Vec::new() };
    doc.out.extend_from_slice(b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
    doc.obj("/Type /Catalog /Pages 2 0 R", None);
    let kids: Vec<String> = (0..PAGES).map(|i| format!("{} 0 R", FIRST_PAGE + 3 * i)).collect();
    doc.obj(&format!("/Type /Pages /Count {PAGES} /Kids [{}]", kids.join(" ")), None);
    let widths: Vec<String> = (32..127).map(|_| r.random_range(250..900).to_string()).collect();
    let font = "/Type /Font /Subtype /TrueType /BaseFont /WSCORP+Serif /FirstChar 32 /LastChar 126";
    doc.obj(&format!("{font} /Widths [{}] /FontDescriptor 4 0 R", widths.join(" ")), None);
    doc.obj(
        "/Type /FontDescriptor /FontName /WSCORP+Serif /Flags 34 /FontBBox [-170 -220 1010 900] /ItalicAngle 0 \
         /Ascent 890 /Descent -215 /CapHeight 660 /StemV 80 /FontFile2 5 0 R",
        None,
    );
    // Embedded binaries are random bytes in stored deflate blocks: incompressible, yet they decode.
    let font_file = noise(&mut r, 46_000);
    doc.obj(&format!("/Filter /FlateDecode /Length1 {}", font_file.len()), Some(&zlib(&font_file, false)));
    doc.obj("/Title (Synthetic corpus document) /Producer (wstest corpus generator) /CreationDate (D:20240101)", None);
    for i in 0..PAGES {
        let (content, image) = (FIRST_PAGE + 3 * i + 1, FIRST_PAGE + 3 * i + 2);
        doc.obj(
            &format!(
                "/Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> \
                 /XObject << /Im1 {image} 0 R >> >> /Contents {content} 0 R"
            ),
            None,
        );
        let text = page_content(&mut r, &w, i + 1);
        if i % 3 == 0 {
            doc.obj("/Filter /FlateDecode", Some(&zlib(text.as_bytes(), true)));
        } else {
            doc.obj("", Some(text.as_bytes()));
        }
        let (width, height) = (r.random_range(120..200), r.random_range(100..160));
        let image = "/Type /XObject /Subtype /Image /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode";
        doc.obj(
            &format!("{image} /Width {width} /Height {height}"),
            Some(&zlib(&noise(&mut r, width * height), false)),
        );
    }
    // The tail's size is known once the object count is (the xref offset always has 7 digits here), so a final
    // embedded-file object of random bytes pads the document to the exact length.
    let xref_at = PDF_LEN - pdf_xref(&vec![0; doc.offsets.len() + 1], 1_000_000).len();
    let pad = "/Type /EmbeddedFile /Subtype /application#2Foctet-stream";
    let fixed = format!("{} 0 obj\n<< {pad} /Length  >>\nstream\n\nendstream\nendobj\n", doc.offsets.len() + 1).len();
    let room = xref_at - doc.out.len() - fixed; // = pad length + digits of pad length
    let pad_len = (1..=7).map(|d| room - d).find(|n| n.to_string().len() == room - n).expect("pad length exists");
    doc.obj(pad, Some(&noise(&mut r, pad_len)));
    assert_eq!(doc.out.len(), xref_at, "PDF padding miscalculated");
    doc.out.extend_from_slice(pdf_xref(&doc.offsets, xref_at).as_bytes());
    doc.out
}
