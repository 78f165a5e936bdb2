use super::*;

fn offers(s: &str) -> Vec<Extension> {
    parse_extensions([s])
}

fn accept(config: &DeflateConfig, s: &str) -> Option<String> {
    config.accept(&offers(s)).map(|(_, h)| h)
}

#[test]
fn parses_the_grammar() {
    let e = parse_extensions([
        "permessage-deflate; client_max_window_bits, x-foo",
        "permessage-deflate;server_max_window_bits=\"10\"",
    ]);
    assert_eq!(e.len(), 3);
    assert_eq!(e[0].params, vec![("client_max_window_bits".to_owned(), None)]);
    assert_eq!(e[1].name, "x-foo");
    assert_eq!(e[2].params, vec![("server_max_window_bits".to_owned(), Some("10".to_owned()))]);
}

#[test]
fn server_answers_the_reference_suites_offers() {
    let c = DeflateConfig::default();
    let base = "permessage-deflate; client_no_context_takeover; client_max_window_bits";
    assert_eq!(accept(&c, base).unwrap(), "permessage-deflate");
    assert_eq!(
        accept(&c, &format!("{base}; server_no_context_takeover")).unwrap(),
        "permessage-deflate; server_no_context_takeover"
    );
    assert_eq!(
        accept(&c, &format!("{base}; server_max_window_bits=9")).unwrap(),
        "permessage-deflate; server_max_window_bits=9"
    );
    // Asked for, the window is named in the answer even at 15 (RFC 7692
    // §7.1.2.1), or the asking client would take the offer as declined.
    assert_eq!(
        accept(&c, &format!("{base}; server_max_window_bits=15")).unwrap(),
        "permessage-deflate; server_max_window_bits=15"
    );
    let three = format!(
        "{base}; server_no_context_takeover; server_max_window_bits=9, {base}; server_no_context_takeover, {base}"
    );
    assert_eq!(accept(&c, &three).unwrap(), "permessage-deflate; server_no_context_takeover; server_max_window_bits=9");
    assert_eq!(accept(&c, "x-webkit-deflate-frame"), None);
}

#[test]
fn server_policy() {
    let c = DeflateConfig {
        client_no_context_takeover: true,
        client_max_window_bits: Some(10),
        server_max_window_bits: Some(12),
        ..DeflateConfig::default()
    };
    let (p, h) = c.accept(&offers("permessage-deflate; client_max_window_bits")).unwrap();
    assert_eq!(
        h,
        "permessage-deflate; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=10"
    );
    assert_eq!((p.server_max_window_bits, p.client_max_window_bits), (12, 10));
    // Without client_max_window_bits in the offer we may not ask for it.
    let (p, h) = c.accept(&offers("permessage-deflate")).unwrap();
    assert_eq!(h, "permessage-deflate; client_no_context_takeover; server_max_window_bits=12");
    assert_eq!(p.client_max_window_bits, 15);
}

#[test]
fn eight_bit_server_windows_are_declined() {
    let c = DeflateConfig::default();
    assert_eq!(accept(&c, "permessage-deflate; server_max_window_bits=8"), None);
    assert_eq!(
        accept(&c, "permessage-deflate; server_max_window_bits=8, permessage-deflate").unwrap(),
        "permessage-deflate"
    );
}

#[test]
fn bad_offers_are_declined_and_the_next_one_tried() {
    // RFC 7692 §7.1: unknown parameter, duplicate, invalid or missing value.
    let c = DeflateConfig::default();
    let bad = [
        "permessage-deflate; foo",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_max_window_bits=010",
    ];
    for offer in bad {
        assert_eq!(accept(&c, offer), None, "{offer}");
        let then_good = format!("{offer}, permessage-deflate; server_no_context_takeover");
        assert_eq!(accept(&c, &then_good).unwrap(), "permessage-deflate; server_no_context_takeover", "{offer}");
        // A bad offer after the chosen one does not spoil it either.
        assert_eq!(accept(&c, &format!("permessage-deflate, {offer}")).unwrap(), "permessage-deflate");
    }
}

#[test]
fn bad_parameters_are_named_in_errors() {
    let err = |s: &str| read_params(&offers(s)[0]).unwrap_err().to_string();
    assert!(err("permessage-deflate; foo").contains("\"foo\""));
    assert!(err("permessage-deflate; server_no_context_takeover; server_no_context_takeover").contains("twice"));
    assert!(err("permessage-deflate; server_max_window_bits=16").contains("server_max_window_bits"));
    assert!(err("permessage-deflate; server_max_window_bits").contains("needs a value"));
    assert!(err("permessage-deflate; client_max_window_bits=010").contains("010"));
}

#[test]
fn client_offer_and_response() {
    let c = DeflateConfig::default();
    assert_eq!(c.offer(), "permessage-deflate; client_max_window_bits");
    let p = c.check_response(&offers("permessage-deflate")).unwrap().unwrap();
    assert_eq!((p.client_max_window_bits, p.server_max_window_bits), (15, 15));
    let p = c
        .check_response(&offers("permessage-deflate; client_no_context_takeover; client_max_window_bits=9"))
        .unwrap()
        .unwrap();
    assert!(p.client_no_context_takeover);
    assert_eq!(p.client_max_window_bits, 9);
    assert_eq!(c.check_response(&[]).unwrap(), None);
    // An 8-bit window for our messages, which zlib cannot compress with: the
    // agreement stands, and the encoder sends them uncompressed.
    let p = c.check_response(&offers("permessage-deflate; client_max_window_bits=8")).unwrap().unwrap();
    assert_eq!(p.client_max_window_bits, 8);
    assert!(c.check_response(&offers("permessage-deflate, permessage-deflate")).is_err());
    assert!(c.check_response(&offers("x-foo")).is_err());
    let strict = DeflateConfig { server_max_window_bits: Some(10), client_max_window_bits: Some(12), ..c };
    assert!(strict.check_response(&offers("permessage-deflate; server_max_window_bits=11")).is_err());
    assert!(strict.check_response(&offers("permessage-deflate")).is_err());
    assert!(
        strict
            .check_response(&offers("permessage-deflate; server_max_window_bits=10; client_max_window_bits=13"))
            .is_err()
    );
    assert!(strict.check_response(&offers("permessage-deflate; server_max_window_bits=9")).is_ok());
}

/// Our client takes our server's answer to every offer it can make: each
/// window it may ask of the server (15 included), with and without the
/// context resets.
#[test]
fn our_server_answers_every_offer_of_our_client_acceptably() {
    for server_bits in [None, Some(9), Some(12), Some(15)] {
        for (server_no_context_takeover, client_no_context_takeover) in
            [(false, false), (true, false), (false, true), (true, true)]
        {
            let client = DeflateConfig {
                server_max_window_bits: server_bits,
                server_no_context_takeover,
                client_no_context_takeover,
                ..DeflateConfig::default()
            };
            let (agreed, answer) = DeflateConfig::default().accept(&offers(&client.offer())).unwrap();
            let taken = client.check_response(&offers(&answer)).unwrap().unwrap();
            // The server does not take up the client's own reset (it keeps
            // its inflate history, which a client that resets never uses):
            // the one field the two may see differently.
            let taken = DeflateParams { client_no_context_takeover: agreed.client_no_context_takeover, ..taken };
            assert_eq!(taken, agreed, "offer {:?}, answer {answer:?}", client.offer());
        }
    }
}

/// A client configured for an 8-bit window offers 9 (zlib's smallest raw
/// window), so that our own server, which answers with what was offered,
/// leaves it a window it can honour: the two agree.
#[test]
fn a_client_asking_for_an_eight_bit_window_agrees_with_our_server() {
    let client = DeflateConfig { client_max_window_bits: Some(8), ..DeflateConfig::default() };
    let offer = client.offer();
    assert_eq!(offer, "permessage-deflate; client_max_window_bits=9");
    let (server_params, answer) = DeflateConfig::default().accept(&offers(&offer)).unwrap();
    let agreed = client.check_response(&offers(&answer)).unwrap().unwrap();
    assert_eq!(agreed.client_max_window_bits, 9);
    assert_eq!(agreed, server_params);
}
