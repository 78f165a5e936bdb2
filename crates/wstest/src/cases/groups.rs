//! The suite's groups below the categories, named in our words, for the
//! reports' matrix. Categories 2, 3 and 5 have two-level ids and no groups;
//! a group without a name here is shown without a heading.

/// The name of group `cat.sub` (for a three-level id `cat.sub.n`).
#[must_use]
pub fn subcategory_name(cat: u32, sub: u32) -> Option<&'static str> {
    Some(match (cat, sub) {
        (1, 1) => "Text messages",
        (1, 2) => "Binary messages",
        (4, 1) => "Reserved data opcodes",
        (4, 2) => "Reserved control opcodes",
        (6, 1) => "Valid UTF-8, empty fragments",
        (6, 2) => "Valid UTF-8, whole and split between or inside code points",
        (6, 3) => "Invalid UTF-8, split in several ways",
        (6, 4) => "Invalid UTF-8 noticed early",
        (6, 5) => "Valid UTF-8 samples",
        (6, 6) => "Every prefix of a text with multi-octet code points",
        (6, 7) => "Lowest sequence of each length",
        (6, 8) => "Five- and six-octet sequences",
        (6, 9) => "Highest sequence of each length",
        (6, 10) => "Highest four- to six-octet sequences beyond U+10FFFF",
        (6, 11) => "Other boundaries",
        (6, 12) => "Continuation octets without a lead",
        (6, 13) => "Lead octets without continuations",
        (6, 14) => "Sequences missing their last octet",
        (6, 15) => "Incomplete sequences back to back",
        (6, 16) => "Octets that never occur in UTF-8",
        (6, 17) => "Overlong forms of an ASCII character",
        (6, 18) => "Longest overlong forms",
        (6, 19) => "Overlong forms of NUL",
        (6, 20) => "Lone UTF-16 surrogates",
        (6, 21) => "Paired UTF-16 surrogates",
        (6, 22) => "Noncharacters (valid UTF-8)",
        (6, 23) => "Specials such as U+FFFD",
        (7, 1) => "Closing basics (wstest closes)",
        (7, 3) => "Close payload length",
        (7, 5) => "Close reason that is not UTF-8",
        (7, 7) => "Valid close codes",
        (7, 9) => "Invalid close codes",
        (7, 13) => "Close codes for information",
        (9, 1) => "Text messages of growing size",
        (9, 2) => "Binary messages of growing size",
        (9, 3) => "A fragmented text message, growing fragments",
        (9, 4) => "A fragmented binary message, growing fragments",
        (9, 5) => "A text message written in growing chops",
        (9, 6) => "A binary message written in growing chops",
        (9, 7) => "Text round trips of growing size",
        (9, 8) => "Binary round trips of growing size",
        (10, 1) => "Fragmenting on its own",
        (12, 1) => "JSON records (text, 194056 octets)",
        (12, 2) => "8-bit bitmap (binary, 263222 octets)",
        (12, 3) => "German verse (binary, 222218 octets)",
        (12, 4) => "HTML (text, 263647 octets)",
        (12, 5) => "PDF-like document (binary, 1042328 octets)",
        (13, 1) => "JSON; offer and accept with defaults",
        (13, 2) => "JSON; no context takeover asked both ways",
        (13, 3) => "JSON; 9-bit windows asked both ways",
        (13, 4) => "JSON; 15-bit windows asked both ways",
        (13, 5) => "JSON; no context takeover and 9-bit windows",
        (13, 6) => "JSON; no context takeover and 15-bit windows",
        (13, 7) => "JSON; three offers in order of preference",
        _ => return None,
    })
}

/// The group of a case id (`"6.4.1"` → `Some((6, 4))`); two-level ids
/// (`"2.10"`) have none.
#[must_use]
pub fn group_of(id: &str) -> Option<(u32, u32)> {
    let key = super::id_key(id);
    (key.len() >= 3).then(|| (key[0], key[1]))
}
