//! Synthetic test-data corpora for the compression cases (12.x).
//!
//! Every corpus is built by our own code from a fixed seed with a ChaCha8 generator and integer
//! arithmetic only, so the bytes are identical on every run and every platform. Each corpus is
//! generated lazily on first use and then cached for the life of the process.
//!
//! The content only has to *behave* like the kind of data it stands for (size, encoding and
//! roughly how well it deflates); it is not meant to be meaningful.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::OnceLock;

use flate2::Compression;
use flate2::write::ZlibEncoder;
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
    /// An array of API-style JSON records, pure ASCII.
    Json,
    /// A 512x512 8-bit grayscale Windows BMP image.
    Bitmap,
    /// German verse drama text in UTF-8 (sent as binary).
    Faust,
    /// An HTML document with 27 two-byte UTF-8 characters.
    Html,
    /// A PDF-like file made mostly of deflated and high-entropy streams.
    Pdf,
}

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
        matches!(self, Corpus::Json | Corpus::Html)
    }

    /// Exact size of the corpus in bytes.
    #[must_use]
    #[allow(clippy::len_without_is_empty)] // a corpus is never empty
    pub fn len(self) -> usize {
        match self {
            Corpus::Json => JSON_LEN,
            Corpus::Bitmap => BMP_LEN,
            Corpus::Faust => FAUST_LEN,
            Corpus::Html => HTML_LEN,
            Corpus::Pdf => PDF_LEN,
        }
    }

    /// A short human label, e.g. "JSON data (UTF-8)".
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Corpus::Json => "JSON data (UTF-8)",
            Corpus::Bitmap => "BMP image (binary)",
            Corpus::Faust => "German verse text (binary)",
            Corpus::Html => "HTML document (UTF-8)",
            Corpus::Pdf => "PDF document (binary)",
        }
    }

    /// Builds the corpus from scratch (uncached).
    fn generate(self) -> Vec<u8> {
        let data = match self {
            Corpus::Json => json(),
            Corpus::Bitmap => bitmap(),
            Corpus::Faust => faust(),
            Corpus::Html => html(),
            Corpus::Pdf => pdf(),
        };
        assert_eq!(data.len(), self.len(), "{self:?} corpus has the wrong size");
        data
    }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers and word lists
// ---------------------------------------------------------------------------------------------

type Gen = ChaCha8Rng;

fn seeded(seed: u64) -> Gen {
    Gen::seed_from_u64(seed)
}

fn words(list: &'static str) -> Vec<&'static str> {
    list.split_ascii_whitespace().collect()
}

fn pick<'a>(r: &mut Gen, list: &[&'a str]) -> &'a str {
    list[r.random_range(0..list.len())]
}

/// Appends a random number (in `count`) of random words from `list`, separated by single spaces.
fn phrase(r: &mut Gen, list: &[&str], count: std::ops::Range<usize>, out: &mut String) {
    for i in 0..r.random_range(count) {
        if i > 0 {
            out.push(' ');
        }
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

/// Appends `s` with its first character upper-cased.
fn push_capitalized(out: &mut String, s: &str) {
    push_recased(out, s, true);
}

/// Appends `s` with its first character upper- or lower-cased.
fn push_recased(out: &mut String, s: &str, upper: bool) {
    let mut chars = s.chars();
    if let Some(c) = chars.next() {
        if upper {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        out.push_str(chars.as_str());
    }
}

/// An English sentence of `lo..hi` words, capitalised and ending in a full stop.
fn sentence(r: &mut Gen, list: &[&str], lo: usize, hi: usize, out: &mut String) {
    let mut s = String::new();
    phrase(r, list, lo..hi, &mut s);
    push_capitalized(out, &s);
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

// ---------------------------------------------------------------------------------------------
// 12.1 JSON
// ---------------------------------------------------------------------------------------------

const FIRST: &str = "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard \
    Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Betty Mark Sandra Donald Ashley \
    Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah";
const LAST: &str = "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez \
    Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez \
    Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall";
const CITIES: &str = "Springfield Riverside Franklin Greenville Bristol Clinton Fairview Salem Madison Georgetown \
    Arlington Ashland Burlington Manchester Oxford Clayton Dayton Jackson Milford Newport";
const STREETS: &str = "Maple Oak Pine Cedar Elm Washington Lake Hill Park Main Church Highland Sunset Willow River";
const TAGS: &str = "alpha beta gamma delta premium trial enterprise legacy mobile desktop early-adopter verified \
    partner reseller internal vip churn-risk newsletter support beta-tester";
const COMPANIES: &str = "ACME GLOBEX INITECH UMBRELLA HOOLI VANDELAY STARKWORKS TYRELL CYBERDYNE SOYLENT WONKA";
const ROLES: &str = "admin editor viewer owner billing support analyst developer";

fn json() -> Vec<u8> {
    let mut r = seeded(0x4a53_4f4e_0012_0001);
    let lists: [Vec<&str>; 8] = [FIRST, LAST, CITIES, STREETS, TAGS, COMPANIES, ROLES, ENGLISH].map(words);
    let mut out = String::with_capacity(JSON_LEN);
    out.push_str("[\n");
    let mut id = 0;
    loop {
        let mark = out.len();
        json_record_head(&mut r, &lists, id, &mut out);
        phrase(&mut r, &lists[7], 4..14, &mut out);
        out.push_str("\"\n  },\n");
        if out.len() + 2048 > JSON_LEN {
            out.truncate(mark);
            break;
        }
        id += 1;
    }
    // The last record's note absorbs whatever is left, so the document ends exactly on size.
    const TAIL: &str = "\"\n  }\n]\n";
    json_record_head(&mut r, &lists, id, &mut out);
    fill_ascii(&mut r, &lists[7], &mut out, JSON_LEN - TAIL.len());
    out.push_str(TAIL);
    out.into_bytes()
}

/// Writes one pretty-printed record up to and including the opening quote of its `note` field.
fn json_record_head(r: &mut Gen, l: &[Vec<&str>; 8], id: usize, out: &mut String) {
    let (first, last) = (pick(r, &l[0]), pick(r, &l[1]));
    let company = pick(r, &l[5]);
    let (a, b, c, d, e): (u32, u16, u16, u16, u64) = (r.random(), r.random(), r.random(), r.random(), r.random());
    let _ = write!(
        out,
        "  {{\n    \"id\": {id},\n    \"guid\": \"{a:08x}-{b:04x}-4{:03x}-{d:04x}-{:012x}\",\n    \"isActive\": {},\n    \
         \"balance\": {}.{:02},\n    \"age\": {},\n    \"name\": {{\n      \"first\": \"{first}\",\n      \
         \"last\": \"{last}\"\n    }},\n    \"company\": \"{company}\",\n    \"email\": \"{}.{}@{}.example.com\",\n    \
         \"phone\": \"+1 ({}) {}-{:04}\",\n",
        c & 0xfff,
        e & 0xffff_ffff_ffff,
        r.random_ratio(2, 3),
        r.random_range(0..9000),
        r.random_range(0..100),
        r.random_range(18..80),
        first.to_ascii_lowercase(),
        last.to_ascii_lowercase(),
        company.to_ascii_lowercase(),
        r.random_range(200..990),
        r.random_range(200..990),
        r.random_range(0..10000),
    );
    let _ = write!(
        out,
        "    \"address\": {{\n      \"street\": \"{} {} Street\",\n      \"city\": \"{}\",\n      \"zip\": \"{:05}\",\n      \
         \"geo\": {{ \"lat\": {}.{:06}, \"lng\": -{}.{:06} }}\n    }},\n    \"role\": \"{}\",\n    \
         \"registered\": \"20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}Z\",\n    \"tags\": [",
        r.random_range(1..2000),
        pick(r, &l[3]),
        pick(r, &l[2]),
        r.random_range(1000..99999),
        r.random_range(25..48),
        r.random_range(0..1_000_000),
        r.random_range(70..122),
        r.random_range(0..1_000_000),
        pick(r, &l[6]),
        r.random_range(10..25),
        r.random_range(1..13),
        r.random_range(1..29),
        r.random_range(0..24),
        r.random_range(0..60),
        r.random_range(0..60),
    );
    for i in 0..r.random_range(1..6) {
        let _ = write!(out, "{}\"{}\"", if i > 0 { ", " } else { "" }, pick(r, &l[4]));
    }
    out.push_str("],\n    \"friends\": [");
    for i in 0..r.random_range(0..4) {
        let (f, g) = (pick(r, &l[0]), pick(r, &l[1]));
        let sep = if i > 0 { "," } else { "" };
        let _ = write!(out, "{sep}\n      {{ \"id\": {}, \"name\": \"{f} {g}\" }}", r.random_range(0..400));
    }
    out.push_str("\n    ],\n    \"note\": \"");
}

// ---------------------------------------------------------------------------------------------
// 12.2 Bitmap
// ---------------------------------------------------------------------------------------------

/// A triangle wave of the given period, ranging over `-amp..=amp`.
fn tri(t: i32, period: i32, amp: i32) -> i32 {
    let p = t.rem_euclid(period);
    amp * (2 * (2 * p - period).abs() - period) / period
}

fn bitmap() -> Vec<u8> {
    const SIDE: i32 = 512;
    let mut r = seeded(0x424d_5000_0012_0002);
    let mut out = Vec::with_capacity(BMP_LEN);
    out.extend_from_slice(b"BM");
    let file_size = u32::try_from(BMP_LEN).unwrap_or(u32::MAX);
    for v in [file_size, 0, 1078, 40, 512, 512] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&1u16.to_le_bytes()); // planes
    out.extend_from_slice(&8u16.to_le_bytes()); // bits per pixel
    for v in [0u32, 512 * 512, 2835, 2835, 256, 0] {
        out.extend_from_slice(&v.to_le_bytes()); // compression, image size, resolution, colours
    }
    for i in 0..=255u8 {
        out.extend_from_slice(&[i, i, i, 0]);
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
            // Quantise smooth areas a little (like a lossy source) before adding noise.
            v = v / 3 * 3 + r.random_range(-4..=4);
            out.push(u8::try_from(v.clamp(0, 255)).unwrap_or(0));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// 12.3 German verse ("Faust")
// ---------------------------------------------------------------------------------------------

const MASC: &str = "Geist Mond Traum Wald Schmerz Tag Himmel Frühling Wanderer König Strom Becher Abend Morgen Stern \
    Sturm Zauber Übermut Äther Ärger Ölbaum Frieden Gesang Kummer Brunnen Garten Hügel Nebel Schatten Tod Wein Wind \
    Zweifel Pfad Weg Fluß Gruß Schwur Schlüssel Spiegel Teufel Engel Bruder Vater Freund Lehrer Schüler Blick Glanz \
    Hauch Klang Duft Sinn Mut Zorn Stolz Fluch Segen Atem Busen Donner Blitz Felsen Acker Hain Bach See Kahn Ritter \
    Greis Bettler Kaiser Narr Hund Adler Tanz Kuß Thron Saal Turm Markt Herbst Winter Sommer Regen Schnee Staub \
    Sand Rausch Wahn Geiz Neid Frevel Jammer Tau Degen Kelch Altar Kranz Pokal";
const FEM: &str = "Nacht Seele Welt Liebe Stunde Sonne Brust Tür Größe Schönheit Kraft Hölle Öde Flamme Stimme Blume \
    Quelle Wahrheit Sehnsucht Ruhe Freude Träne Wolke Mutter Schwester Jugend Heimat Erde Stille Straße Hand Kirche \
    Mauer Tiefe Ferne Gnade Schuld Klage Übung Ähre Glocke Weisheit Tugend Rose Lippe Wange Locke Kammer Halle \
    Hütte Insel Wiese Heide Höhle Grube Stadt Burg Zeit Ewigkeit Jungfrau Königin Hexe Magd Frau Tochter Braut Lust \
    Qual Pein Angst Furcht Hoffnung Treue Ehre Sünde Tat Pflicht Gestalt Natur Zunge Feder Kette Krone Lampe Lanze \
    Harfe Laute Flöte Woge Welle Flut";
const NEUT: &str = "Herz Glück Licht Leben Feuer Wort Buch Mädchen Gefühl Übel Öl Grab Auge Wasser Schicksal Lied \
    Tor Gold Blut Schwert Fenster Gewölbe Zimmer Dunkel Meer Land Reich Spiel Wesen Ziel Opfer Gebet Gewissen Kreuz \
    Rätsel Märchen Antlitz Gesicht Haupt Haar Kleid Gewand Dach Haus Schloß Dorf Feld Tal Gebirge Moor Gras Laub \
    Korn Brot Salz Eisen Silber Kind Weib Volk Heer Bild Zeichen Wunder Geheimnis Vergnügen Verlangen Entzücken \
    Elend Unheil Heil Recht Gesetz Amt Pergament Siegel Gift Geld Pfand";
const ADJ: &str = "alt jung still süß schön tief hell wild kühn grün heiß bös fromm klug groß kalt warm leis stolz \
    fremd treu lieb froh zart bleich rein ewig heilig selig öd träg fröhlich glücklich ängstlich lustig hohl dumpf \
    fern nah golden müd weiß schwarz rot blau wüst gütig bang düster finster heiter munter sanft mild hold arm reich \
    krank matt kraus bunt trüb dürr frisch keusch wahr falsch klar leer voll weit eng schmal breit hart weich rauh \
    scharf stumm taub blind toll wirr feucht prächtig mächtig listig feurig gierig hehr";
/// Regular present-tense verb stems (ich suche, du suchst, er sucht, wir suchen, ...).
const STEMS: &str = "lieb such hoff träum lach fühl hör sag mach leb spiel klag folg kehr glüh blüh schau bau dank \
    dien lob wein wach sing bring trink kling flieh zieh steig schweig bleib schreib treib greif ruf komm geh steh \
    flieg verlier schwör ehr stör führ rühr spür wähl zähl hol frag lern lehr küss wünsch";
const VERBS: &str = "sucht liebt hält trägt füllt grüßt fühlt rührt führt stört bewegt weckt sieht kennt flieht \
    preist verläßt zerstört erfüllt segnet verflucht begehrt umarmt vergißt verbirgt ergreift ahnt findet schweigt \
    ruht glüht blüht lacht weint schläft träumt wacht singt bebt erwacht vergeht zittert brennt fällt steigt kehrt";
const ADV: &str = "heute noch nimmer still leise gern sogleich dort hier immer wieder bald nun schon auch fürwahr \
    droben drunten überall jetzt einst morgen gestern niemals oft selten kaum ganz sehr allzu doch";
const PREFIX: &str = "Himmels Morgen Abend Wald Zauber Liebes Sonnen Herzens Toten Geister Frühlings Feuer Gold Nacht \
    Sternen Todes Wunder Meeres Kirchen Hexen Erden Seelen Gottes Traum Berg Tränen Jugend Rosen Silber Eisen Blumen \
    Schatten Winter Sommer Quell Lebens Stunden Glocken Wolken Vogel Kerker Tempel";
const ADJ_PREFIX: &str = "wunder über tod himmel gold blut eis feuer rosen nacht grund ur glut stein licht engel \
    sonnen tief halb all";
const SMALL: &str = "in mit aus bei von nach vor unter über hinter|ein mein dein sein kein|daß weil wenn da bis ob \
    indem sobald|wo was warum wohin wie|ich du er sie es wir ihr sie|e st t t t en t en|dies jen jed manch \
    welch solch";
const SPEAKERS: &str = "FAUST MEPHISTOPHELES WAGNER MARGARETE MARTHE SCHÜLER GEIST CHOR HEXE ERZENGEL";
const PLACES: &str = "Nacht. Ein enges Zimmer unter dem Dach|Vor dem Stadttor am Ostermorgen|Ein Garten hinter der \
    Mauer|Straße vor dem Münster|Hohes Gebirge im Nebel|Öde Heide bei Mondschein|Studierzimmer bei Lampenlicht|Eine \
    Schenke am Marktplatz|Am Ufer des Sees|Kerker. Tiefe Nacht|Wald und Felsenschlucht|Saal im Schloß des Königs";
const DIRECTIONS: &str = "Er tritt ans Fenster|Sie geht ab|Er setzt sich nieder|Pause|Sie öffnet die Tür|Er schlägt \
    das Buch auf|Donner in der Ferne|Es wird dunkel|Glocken läuten|Er blickt zum Himmel|Sie weint leise|Musik hinter \
    der Szene|Er grüßt mit der Hand|Beide ab|Ein Hund läuft über die Bühne";

/// German word lists, indexed by the `G_*` constants.
type German = [Vec<&'static str>; 10];
const G_ADJ: usize = 3;
const G_STEM: usize = 4;
const G_VERB: usize = 5;
const G_ADV: usize = 6;
const G_PREFIX: usize = 7;
const G_ADJ_PREFIX: usize = 8;
const G_SPEAKER: usize = 9;
/// Index of the small function-word lists inside `SMALL`.
const PREP: usize = 0;
const POSS: usize = 1;
const CONJ: usize = 2;
const QUESTION: usize = 3;
const PRONOUN: usize = 4;
const ENDING: usize = 5;
const DIES: usize = 6;

/// Appends a declined noun phrase such as "der stille Geist" or "meinen todbleichen Sternenfreund".
/// `case` is 0 (nominative), 1 (accusative) or 2 (dative).
fn noun_phrase(r: &mut Gen, g: &German, small: &[Vec<&str>], case: usize, out: &mut String) {
    // [case][gender] -> (definite article, adjective ending) and (ein-word suffix, adjective ending).
    const DEF: [[(&str, &str); 3]; 3] = [
        [("der", "e"), ("die", "e"), ("das", "e")],
        [("den", "en"), ("die", "e"), ("das", "e")],
        [("dem", "en"), ("der", "en"), ("dem", "en")],
    ];
    const EIN: [[(&str, &str); 3]; 3] = [
        [("", "er"), ("e", "e"), ("", "es")],
        [("en", "en"), ("e", "e"), ("", "es")],
        [("em", "en"), ("er", "en"), ("em", "en")],
    ];
    const THIS: [[&str; 3]; 3] = [["er", "e", "es"], ["en", "e", "es"], ["em", "er", "em"]];
    let gender = r.random_range(0..3);
    let ((det, ending), stem) = match r.random_range(0..5) {
        0 | 1 => (DEF[case][gender], ""),
        2 => ((THIS[case][gender], DEF[case][gender].1), pick(r, &small[DIES])), // "dieser", "jenem", ...
        _ => (EIN[case][gender], pick(r, &small[POSS])),
    };
    let _ = write!(out, "{stem}{det} ");
    for _ in 0..[0, 1, 1, 1, 2][r.random_range(0..5)] {
        if r.random_ratio(1, 3) {
            out.push_str(pick(r, &g[G_ADJ_PREFIX])); // "todes" + "bleich"
        }
        let _ = write!(out, "{}{ending} ", pick(r, &g[G_ADJ]));
    }
    let noun = pick(r, &g[gender]);
    if r.random_ratio(1, 2) {
        out.push_str(pick(r, &g[G_PREFIX])); // a compound: "Sternen" + "nacht"
        push_recased(out, noun, false);
    } else {
        out.push_str(noun);
    }
}

/// Appends one verse line built from a handful of sentence patterns.
fn verse_line(r: &mut Gen, g: &German, small: &[Vec<&str>], out: &mut String) {
    let mut s = String::with_capacity(96);
    let mut end = [",", ".", ";", "!", ",", ".", ":", ""][r.random_range(0..8)];
    let np = |r: &mut Gen, case, s: &mut String| noun_phrase(r, g, small, case, s);
    match r.random_range(0..7) {
        0 => {
            np(r, 0, &mut s);
            let _ = write!(s, " {} ", pick(r, &g[G_VERB]));
            np(r, 1, &mut s);
        }
        1 => {
            np(r, 0, &mut s);
            let _ = write!(s, " {} {} ", pick(r, &g[G_VERB]), pick(r, &small[PREP]));
            np(r, 2, &mut s);
        }
        2 => {
            let _ = write!(s, "{} {} ", pick(r, &g[G_ADV]), pick(r, &g[G_VERB]));
            np(r, 0, &mut s);
        }
        3 | 4 => {
            let person = r.random_range(0..8);
            let (pronoun, stem) = (small[PRONOUN][person], pick(r, &g[G_STEM]));
            let _ = write!(s, "{pronoun} {stem}{} ", small[ENDING][person]);
            np(r, 1, &mut s);
            let _ = write!(s, " {}", pick(r, &g[G_ADV]));
        }
        5 => {
            let _ = write!(s, "{} {} ", pick(r, &small[QUESTION]), pick(r, &g[G_VERB]));
            np(r, 0, &mut s);
            end = "?";
        }
        _ => {
            let _ = write!(s, "{} ", pick(r, &small[PREP]));
            np(r, 2, &mut s);
            let _ = write!(s, " {} ", pick(r, &g[G_VERB]));
            np(r, 0, &mut s);
        }
    }
    if r.random_ratio(1, 3) {
        // A subordinate clause with the verb at the end.
        let _ = write!(s, ", {} ", pick(r, &small[CONJ]));
        np(r, 0, &mut s);
        s.push(' ');
        np(r, 1, &mut s);
        let _ = write!(s, " {}", pick(r, &g[G_VERB]));
    }
    push_capitalized(out, &s);
    out.push_str(end);
    out.push('\n');
}

fn faust() -> Vec<u8> {
    let mut r = seeded(0x4641_5553_0012_0003);
    let g: German = [MASC, FEM, NEUT, ADJ, STEMS, VERBS, ADV, PREFIX, ADJ_PREFIX, SPEAKERS].map(words);
    let small: Vec<Vec<&str>> = SMALL.split('|').map(|l| l.split_ascii_whitespace().collect()).collect();
    let places: Vec<&str> = PLACES.split('|').collect();
    let directions: Vec<&str> = DIRECTIONS.split('|').collect();
    let mut out = String::with_capacity(FAUST_LEN + 4096);
    out.push_str("Der Wanderer und sein Schatten\nEin dramatisches Gedicht in Versen\n\n");
    let mut scene = 1;
    while out.len() < FAUST_LEN {
        let _ = write!(out, "\nSzene {scene}. {}.\n\n", pick(&mut r, &places));
        for _ in 0..r.random_range(6..24) {
            let _ = writeln!(out, "{}:", pick(&mut r, &g[G_SPEAKER]));
            if r.random_ratio(1, 5) {
                let _ = writeln!(out, "({}.)", pick(&mut r, &directions));
            }
            for _ in 0..r.random_range(1..12) {
                verse_line(&mut r, &g, &small, &mut out);
            }
            out.push('\n');
        }
        scene += 1;
    }
    // Cut on a character boundary and pad with line breaks to the exact size.
    let mut cut = FAUST_LEN;
    while !out.is_char_boundary(cut) {
        cut -= 1;
    }
    out.truncate(cut);
    while out.len() < FAUST_LEN {
        out.push('\n');
    }
    out.into_bytes()
}

// ---------------------------------------------------------------------------------------------
// 12.4 HTML
// ---------------------------------------------------------------------------------------------

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
        if i > 0 {
            out.push(' ');
        }
        sentence(r, w, 6, 18, out);
        match r.random_range(0..6) {
            0 => {
                let (a, b) = (pick(r, w), pick(r, w));
                let _ = write!(out, " See <a href=\"/docs/{a}/{}.html\">{a} {b}</a>.", r.random_range(1..300));
            }
            1 => {
                let _ = write!(out, " <em>{}</em> {}.", pick(r, w), pick(r, w));
            }
            2 => {
                let _ =
                    write!(out, " The <code>{}_{}</code> field is <strong>required</strong>.", pick(r, w), pick(r, w));
            }
            _ => {}
        }
    }
    out.push_str("</p>\n");
}

/// Appends one `<section>` with headings, paragraphs and sometimes a table or a list.
fn html_section(r: &mut Gen, w: &[&str], n: usize, out: &mut String) {
    let _ = write!(out, "<section id=\"s{n}\">\n<h2>{n}. ");
    let mut title = String::new();
    phrase(r, w, 2..5, &mut title);
    push_capitalized(out, &title);
    out.push_str("</h2>\n");
    for _ in 0..r.random_range(2..6) {
        html_paragraph(r, w, out);
    }
    if r.random_ratio(1, 2) {
        out.push_str("<table class=\"data\">\n<thead><tr><th>Item</th><th>Qty</th><th>Price</th><th>Status</th></tr></thead>\n<tbody>\n");
        for _ in 0..r.random_range(3..12) {
            let status = ["ok", "pending", "failed", "shipped"][r.random_range(0..4)];
            let _ = writeln!(
                out,
                "<tr><td>{} {}</td><td>{}</td><td>{}.{:02}</td><td class=\"{status}\">{status}</td></tr>",
                pick(r, w),
                pick(r, w),
                r.random_range(1..500),
                r.random_range(0..1000),
                r.random_range(0..100)
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    if r.random_ratio(1, 2) {
        let _ = write!(out, "<h3>Notes</h3>\n<ul>\n");
        for _ in 0..r.random_range(2..8) {
            out.push_str("<li>");
            sentence(r, w, 3, 10, out);
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

fn html() -> Vec<u8> {
    let mut r = seeded(0x4854_4d4c_0012_0004);
    let w = words(ENGLISH);
    let mut out = String::with_capacity(HTML_LEN);
    out.push_str(HTML_HEAD);
    let mut n = 1;
    loop {
        let mark = out.len();
        html_section(&mut r, &w, n, &mut out);
        if out.len() + HTML_TAIL.len() + 256 > HTML_LEN {
            out.truncate(mark);
            break;
        }
        n += 1;
    }
    // A final note paragraph soaks up the remaining bytes.
    out.push_str("<p class=\"note\">");
    fill_ascii(&mut r, &w, &mut out, HTML_LEN - HTML_TAIL.len() - "</p>\n".len());
    out.push_str("</p>\n");
    out.push_str(HTML_TAIL);
    out.into_bytes()
}

// ---------------------------------------------------------------------------------------------
// 12.5 PDF
// ---------------------------------------------------------------------------------------------

/// Deflates `data` into a zlib stream (as a PDF `/FlateDecode` filter expects) at `level`.
fn zlib(data: &[u8], level: u32) -> Vec<u8> {
    let mut enc = ZlibEncoder::new(Vec::with_capacity(data.len() + 64), Compression::new(level));
    enc.write_all(data).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

/// `n` high-entropy bytes, standing in for embedded image or font data.
fn noise(r: &mut Gen, n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    r.fill(&mut v[..]);
    v
}

/// Appends object number `offsets.len() + 1` with dictionary entries `dict` and an optional stream.
fn pdf_obj(out: &mut Vec<u8>, offsets: &mut Vec<usize>, dict: &str, stream: Option<&[u8]>) {
    offsets.push(out.len());
    let n = offsets.len();
    match stream {
        Some(s) => {
            out.extend_from_slice(format!("{n} 0 obj\n<< {dict} /Length {} >>\nstream\n", s.len()).as_bytes());
            out.extend_from_slice(s);
            out.extend_from_slice(b"\nendstream\nendobj\n");
        }
        None => out.extend_from_slice(format!("{n} 0 obj\n<< {dict} >>\nendobj\n").as_bytes()),
    }
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

fn pdf() -> Vec<u8> {
    const PAGES: usize = 30;
    const FIRST_PAGE: usize = 7; // objects 1..=6 are catalog, page tree, font, descriptor, font file, info
    let mut r = seeded(0x5044_4600_0012_0005);
    let w = words(ENGLISH);
    let mut out = Vec::with_capacity(PDF_LEN);
    let mut offsets = Vec::new();
    out.extend_from_slice(b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
    pdf_obj(&mut out, &mut offsets, "/Type /Catalog /Pages 2 0 R", None);
    let kids: Vec<String> = (0..PAGES).map(|i| format!("{} 0 R", FIRST_PAGE + 3 * i)).collect();
    pdf_obj(&mut out, &mut offsets, &format!("/Type /Pages /Count {PAGES} /Kids [{}]", kids.join(" ")), None);
    let widths: Vec<String> = (32..127).map(|_| r.random_range(250..900).to_string()).collect();
    let font = format!(
        "/Type /Font /Subtype /TrueType /BaseFont /WSCORP+Serif /FirstChar 32 /LastChar 126 /Widths [{}] \
         /FontDescriptor 4 0 R",
        widths.join(" ")
    );
    pdf_obj(&mut out, &mut offsets, &font, None);
    pdf_obj(
        &mut out,
        &mut offsets,
        "/Type /FontDescriptor /FontName /WSCORP+Serif /Flags 34 /FontBBox [-170 -220 1010 900] /ItalicAngle 0 \
         /Ascent 890 /Descent -215 /CapHeight 660 /StemV 80 /FontFile2 5 0 R",
        None,
    );
    let font_file = noise(&mut r, 46_000);
    let dict = format!("/Filter /FlateDecode /Length1 {}", font_file.len());
    pdf_obj(&mut out, &mut offsets, &dict, Some(&zlib(&font_file, 0)));
    pdf_obj(
        &mut out,
        &mut offsets,
        "/Title (Synthetic corpus document) /Producer (wstest corpus generator) /CreationDate (D:20240101000000Z)",
        None,
    );
    for i in 0..PAGES {
        let (page, content, image) = (FIRST_PAGE + 3 * i, FIRST_PAGE + 3 * i + 1, FIRST_PAGE + 3 * i + 2);
        let dict = format!(
            "/Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> \
             /XObject << /Im1 {image} 0 R >> >> /Contents {content} 0 R"
        );
        debug_assert_eq!(offsets.len() + 1, page);
        pdf_obj(&mut out, &mut offsets, &dict, None);
        let text = page_content(&mut r, &w, i + 1);
        if i % 3 == 0 {
            pdf_obj(&mut out, &mut offsets, "/Filter /FlateDecode", Some(&zlib(text.as_bytes(), 6)));
        } else {
            pdf_obj(&mut out, &mut offsets, "", Some(text.as_bytes()));
        }
        // Image samples are random (incompressible); wrapping them in stored deflate blocks keeps them decodable.
        let (width, height) = (r.random_range(120..200), r.random_range(100..160));
        let dict = format!(
            "/Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace /DeviceGray \
             /BitsPerComponent 8 /Filter /FlateDecode"
        );
        pdf_obj(&mut out, &mut offsets, &dict, Some(&zlib(&noise(&mut r, width * height), 0)));
    }
    // The cross-reference table has a known size once the object count is fixed (the offset after
    // `startxref` always has 7 digits here), so a final embedded-file object pads to the exact length.
    let count = offsets.len() + 2; // entry 0 plus the padding object
    let tail_len = format!("xref\n0 {count}\n").len()
        + 20 * count
        + format!("trailer\n<< /Size {count} /Root 1 0 R /Info 6 0 R >>\nstartxref\n1000000\n%%EOF\n").len();
    let xref_at = PDF_LEN - tail_len;
    let pad_dict = "/Type /EmbeddedFile /Subtype /application#2Foctet-stream";
    let overhead = format!("{} 0 obj\n<< {pad_dict} /Length  >>\nstream\n\nendstream\nendobj\n", count - 1).len();
    let room = xref_at - out.len() - overhead;
    let pad_len = (1..=7).map(|d| room - d).find(|n| n.to_string().len() == room - n).expect("pad length exists");
    pdf_obj(&mut out, &mut offsets, pad_dict, Some(&noise(&mut r, pad_len)));
    assert_eq!(out.len(), xref_at, "PDF padding miscalculated");
    let _ = write!(out, "xref\n0 {count}\n0000000000 65535 f \n");
    for off in &offsets {
        let _ = write!(out, "{off:010} 00000 n \n");
    }
    let _ = write!(out, "trailer\n<< /Size {count} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref_at}\n%%EOF\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compress, FlushCompress, Status};

    /// Raw-deflate (level 6) output size per mille of the input size.
    fn deflate_permille(data: &[u8]) -> usize {
        let mut c = Compress::new(Compression::new(6), false);
        let mut out = Vec::with_capacity(data.len() + data.len() / 8 + 1024);
        assert_eq!(c.compress_vec(data, &mut out, FlushCompress::Finish).unwrap(), Status::StreamEnd);
        out.len() * 1000 / data.len()
    }

    #[test]
    fn ratios() {
        let t = std::time::Instant::now();
        for c in Corpus::ALL {
            let _ = c.bytes();
        }
        println!("gen {:?}", t.elapsed());
        for c in Corpus::ALL {
            println!("{c:?} {}", deflate_permille(c.bytes()));
        }
        for c in Corpus::ALL {
            std::fs::write(format!("/tmp/corpus/out_{c:?}"), c.bytes()).unwrap();
        }
    }
}
