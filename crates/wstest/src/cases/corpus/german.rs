//! The German verse drama (12.3): grammatical nonsense in the shape of a play, UTF-8, sent as binary.

use std::fmt::Write as _;

use rand::Rng;

use super::{FAUST_LEN, Gen, pick, push_recased, seeded, words};

// ----- 12.3 German verse ("Faust") -----------------------------------------------------------------------------

/// German word lists: nouns by gender (masculine, feminine, neuter), then the kinds named by the constants below.
const GERMAN: [&str; 10] = [
    "Geist Mond Traum Wald Schmerz Tag Himmel Frühling Wanderer König Strom Becher Abend Morgen Stern Sturm Zauber \
     Übermut Äther Ärger Ölbaum Frieden Gesang Kummer Brunnen Garten Hügel Nebel Schatten Tod Wein Wind Zweifel Pfad \
     Weg Fluß Gruß Schwur Schlüssel Spiegel Teufel Engel Bruder Vater Freund Lehrer Schüler Blick Glanz Hauch Klang \
     Duft Sinn Mut Zorn Stolz Fluch Segen Atem Busen Donner Blitz Felsen Acker Hain Bach See Kahn Ritter Greis \
     Bettler Kaiser Narr Hund Adler Tanz Kuß Thron Saal Turm Markt Herbst Winter Sommer Regen Schnee Staub Sand \
     Rausch Wahn Geiz Neid Frevel Jammer Tau Degen Kelch Altar Kranz Pokal",
    "Nacht Seele Welt Liebe Stunde Sonne Brust Tür Größe Schönheit Kraft Hölle Öde Flamme Stimme Blume Quelle \
     Wahrheit Sehnsucht Ruhe Freude Träne Wolke Mutter Schwester Jugend Heimat Erde Stille Straße Hand Kirche Mauer \
     Tiefe Ferne Gnade Schuld Klage Übung Ähre Glocke Weisheit Tugend Rose Lippe Wange Locke Kammer Halle Hütte \
     Insel Wiese Heide Höhle Grube Stadt Burg Zeit Ewigkeit Jungfrau Königin Hexe Magd Frau Tochter Braut Lust Qual \
     Pein Angst Furcht Hoffnung Treue Ehre Sünde Tat Pflicht Gestalt Natur Zunge Feder Kette Krone Lampe Lanze \
     Harfe Laute Flöte Woge Welle Flut",
    "Herz Glück Licht Leben Feuer Wort Buch Mädchen Gefühl Übel Öl Grab Auge Wasser Schicksal Lied Tor Gold Blut \
     Schwert Fenster Gewölbe Zimmer Dunkel Meer Land Reich Spiel Wesen Ziel Opfer Gebet Gewissen Kreuz Rätsel \
     Märchen Antlitz Gesicht Haupt Haar Kleid Gewand Dach Haus Schloß Dorf Feld Tal Gebirge Moor Gras Laub Korn Brot \
     Salz Eisen Silber Kind Weib Volk Heer Bild Zeichen Wunder Geheimnis Vergnügen Verlangen Entzücken Elend Unheil \
     Heil Recht Gesetz Amt Pergament Siegel Gift Geld Pfand",
    "alt jung still süß schön tief hell wild kühn grün heiß bös fromm klug groß kalt warm leis stolz fremd treu lieb \
     froh zart bleich rein ewig heilig selig öd träg fröhlich glücklich ängstlich lustig hohl dumpf fern nah golden \
     müd weiß schwarz rot blau wüst gütig bang düster finster heiter munter sanft mild hold arm reich krank matt \
     kraus bunt trüb dürr frisch keusch wahr falsch klar leer voll weit eng schmal breit hart weich rauh scharf stumm \
     taub blind toll wirr feucht prächtig mächtig listig feurig gierig hehr",
    "lieb such hoff träum lach fühl hör sag mach leb spiel klag folg kehr glüh blüh schau bau dank dien lob wein wach \
     sing bring trink kling flieh zieh steig schweig bleib schreib treib greif ruf komm geh steh flieg verlier schwör \
     ehr stör führ rühr spür wähl zähl hol frag lern lehr wünsch",
    "sucht liebt hält trägt füllt grüßt fühlt rührt führt stört bewegt weckt sieht kennt flieht preist verläßt \
     zerstört erfüllt segnet verflucht begehrt umarmt vergißt verbirgt ergreift ahnt findet schweigt ruht glüht \
     blüht lacht weint schläft träumt wacht singt bebt erwacht vergeht zittert brennt fällt steigt kehrt",
    "heute noch nimmer still leise gern sogleich dort hier immer wieder bald nun schon auch fürwahr droben drunten \
     überall jetzt einst morgen gestern niemals oft selten kaum ganz sehr allzu doch",
    "Himmels Morgen Abend Wald Zauber Liebes Sonnen Herzens Toten Geister Frühlings Feuer Gold Nacht Sternen Todes \
     Wunder Meeres Kirchen Hexen Erden Seelen Gottes Traum Berg Tränen Jugend Rosen Silber Eisen Blumen Schatten \
     Winter Sommer Quell Lebens Stunden Glocken Wolken Vogel Kerker Tempel",
    "wunder über tod himmel gold blut eis feuer rosen nacht grund ur glut stein licht engel sonnen tief halb all",
    "FAUST MEPHISTOPHELES WAGNER MARGARETE MARTHE SCHÜLER GEIST CHOR HEXE ERZENGEL",
];
const ADJ: usize = 3;
/// Regular present-tense verb stems (ich suche, du suchst, er sucht, wir suchen, ...).
const STEM: usize = 4;
/// Third-person singular verb forms.
const VERB: usize = 5;
const ADV: usize = 6;
/// Front parts of noun compounds ("Sternen" + "nacht").
const PREFIX: usize = 7;
/// Front parts of adjective compounds ("tod" + "bleich").
const ADJ_PREFIX: usize = 8;
const SPEAKER: usize = 9;
const PREP: &[&str] = &["in", "mit", "aus", "bei", "von", "nach", "vor", "unter", "über", "hinter"];
const POSS: &[&str] = &["ein", "mein", "dein", "sein", "kein"];
const THIS: &[&str] = &["dies", "jen", "jed", "manch", "welch", "solch"];
const CONJ: &[&str] = &["daß", "weil", "wenn", "da", "bis", "ob", "indem", "sobald"];
const PRONOUNS: [(&str, &str); 8] =
    [("ich", "e"), ("du", "st"), ("er", "t"), ("sie", "t"), ("es", "t"), ("wir", "en"), ("ihr", "t"), ("sie", "en")];
const ONSET: &[&str] = &[
    "b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "w", "z", "br", "dr", "fr", "gr", "kr", "pr",
    "tr", "schl", "schw", "st", "sp",
];
const VOWEL: &[&str] = &["a", "e", "i", "o", "u", "ä", "ö", "ü", "au", "ei", "ie", "eu"];
const CODA: &[&str] = &["n", "r", "l", "s", "m", "ch", "st", "nd", "ng", "rt", "ß"];
const PLACES: &str = "Nacht. Ein enges Zimmer unter dem Dach|Vor dem Stadttor am Ostermorgen|Ein Garten hinter der \
    Mauer|Straße vor dem Münster|Hohes Gebirge im Nebel|Öde Heide bei Mondschein|Studierzimmer bei Lampenlicht|Eine \
    Schenke am Marktplatz|Am Ufer des Sees|Kerker. Tiefe Nacht|Wald und Felsenschlucht|Saal im Schloß des Königs";
const DIRECTIONS: &str = "Er tritt ans Fenster|Sie geht ab|Er setzt sich nieder|Pause|Sie öffnet die Tür|Er schlägt \
    das Buch auf|Donner in der Ferne|Es wird dunkel|Glocken läuten|Er blickt zum Himmel|Sie weint leise|Musik hinter \
    der Szene|Er grüßt mit der Hand|Beide ab|Ein Hund läuft über die Bühne";

/// Appends a declined noun phrase such as "der stille Geist" or "meinen todbleichen Sternenfreund".
/// `case` is 0 (nominative), 1 (accusative) or 2 (dative).
fn noun_phrase(r: &mut Gen, g: &[Vec<&str>], case: usize, out: &mut String) {
    // [case][gender]: definite article with weak adjective ending; ein-word suffix with mixed ending; dies-word suffix.
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
    const DIES: [[&str; 3]; 3] = [["er", "e", "es"], ["en", "e", "es"], ["em", "er", "em"]];
    let gender = r.random_range(0..3);
    let ((det, ending), stem) = match r.random_range(0..5) {
        0 | 1 => (DEF[case][gender], ""),
        2 => ((DIES[case][gender], DEF[case][gender].1), pick(r, THIS)),
        _ => (EIN[case][gender], pick(r, POSS)),
    };
    let _ = write!(out, "{stem}{det} ");
    for _ in 0..[0, 1, 1, 1, 2][r.random_range(0..5)] {
        if r.random_ratio(1, 3) {
            out.push_str(pick(r, &g[ADJ_PREFIX]));
        }
        let _ = write!(out, "{}{ending} ", pick(r, &g[ADJ]));
    }
    let noun = pick(r, &g[gender]);
    if r.random_ratio(1, 2) {
        out.push_str(pick(r, &g[PREFIX]));
    }
    push_recased(out, noun, out.ends_with(' ')); // lower-cased after a compound prefix
}

/// Appends an invented word (a name, or a spell) made of 2..=4 random syllables.
fn invented_word(r: &mut Gen, out: &mut String) {
    for _ in 0..r.random_range(2..5) {
        out.push_str(pick(r, ONSET));
        out.push_str(pick(r, VOWEL));
        out.push_str(if r.random_ratio(1, 2) { pick(r, CODA) } else { "" });
    }
}

/// Appends one verse line (two when a subordinate clause follows); `spell` makes it a chant of invented words.
fn verse_line(r: &mut Gen, g: &[Vec<&str>], spell: bool, out: &mut String) {
    let mut s = String::with_capacity(96);
    if spell {
        for i in 0..r.random_range(3..7) {
            s.push_str(if i == 0 { "" } else { [" ", ", ", " ", "-"][r.random_range(0..4)] });
            invented_word(r, &mut s);
        }
        push_recased(out, &s, true);
        out.push_str("!\n");
        return;
    }
    if r.random_ratio(1, 5) {
        invented_word(r, &mut s); // addressing someone by name
        s.push_str(", ");
    }
    let mut end = [",", ".", ";", "!", ",", ".", ":", ""][r.random_range(0..8)];
    match r.random_range(0..7) {
        0 | 1 => {
            noun_phrase(r, g, 0, &mut s);
            let _ = write!(s, " {} ", pick(r, &g[VERB]));
            let case = if r.random_ratio(1, 2) {
                1
            } else {
                s.push_str(pick(r, PREP));
                s.push(' ');
                2
            };
            noun_phrase(r, g, case, &mut s);
        }
        2 => {
            let _ = write!(s, "{} {} ", pick(r, &g[ADV]), pick(r, &g[VERB]));
            noun_phrase(r, g, 0, &mut s);
        }
        3 | 4 => {
            let (pronoun, ending) = PRONOUNS[r.random_range(0..PRONOUNS.len())];
            let _ = write!(s, "{pronoun} {}{ending} ", pick(r, &g[STEM]));
            noun_phrase(r, g, 1, &mut s);
            let _ = write!(s, " {}", pick(r, &g[ADV]));
        }
        5 => {
            let _ =
                write!(s, "{} {} ", ["wo", "was", "warum", "wohin", "wie"][r.random_range(0..5)], pick(r, &g[VERB]));
            noun_phrase(r, g, 0, &mut s);
            end = "?";
        }
        _ => {
            let _ = write!(s, "{} ", pick(r, PREP));
            noun_phrase(r, g, 2, &mut s);
            let _ = write!(s, " {} ", pick(r, &g[VERB]));
            noun_phrase(r, g, 0, &mut s);
        }
    }
    if r.random_ratio(1, 3) {
        // A subordinate clause with the verb at the end, carried over to the next verse line.
        push_recased(out, &s, true);
        out.push_str(",\n");
        s.clear();
        let _ = write!(s, "{} ", pick(r, CONJ));
        noun_phrase(r, g, 0, &mut s);
        s.push(' ');
        noun_phrase(r, g, 1, &mut s);
        let _ = write!(s, " {}", pick(r, &g[VERB]));
    }
    push_recased(out, &s, true);
    out.push_str(end);
    out.push('\n');
}

pub(super) fn faust() -> Vec<u8> {
    let mut r = seeded(0x4641_5553_0012_0003);
    let g = GERMAN.map(words);
    let places: Vec<&str> = PLACES.split('|').collect();
    let directions: Vec<&str> = DIRECTIONS.split('|').collect();
    let mut out = String::with_capacity(FAUST_LEN + 4096);
    out.push_str("Der Wanderer und sein Schatten\nEin dramatisches Gedicht in Versen\n\n");
    for scene in 1.. {
        let _ = write!(out, "\nSzene {scene}. {}.\n\n", pick(&mut r, &places));
        for _ in 0..r.random_range(6..24) {
            let speaker = pick(&mut r, &g[SPEAKER]);
            let _ = writeln!(out, "{speaker}:");
            if r.random_ratio(1, 5) {
                let _ = writeln!(out, "({}.)", pick(&mut r, &directions));
            }
            for _ in 0..r.random_range(1..12) {
                let spell = matches!(speaker, "HEXE" | "GEIST") && r.random_ratio(1, 2);
                verse_line(&mut r, &g, spell, &mut out);
            }
            out.push('\n');
        }
        if out.len() >= FAUST_LEN {
            break;
        }
    }
    // Cut on a character boundary, then pad with line breaks to the exact size.
    let cut = (0..=FAUST_LEN).rev().find(|&i| out.is_char_boundary(i)).unwrap_or(0);
    out.truncate(cut);
    out.extend(std::iter::repeat_n('\n', FAUST_LEN - cut));
    out.into_bytes()
}
