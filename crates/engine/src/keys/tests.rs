#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const B: &str = "f0e1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff";
const HASH_A: &str = "hash key A, thirty-two bytes or more";
const HASH_B: &str = "hash key B, thirty-two bytes or more";

fn ring(seal: &str, previous: Option<&str>) -> Keyring {
    Keyring::new(SealKey::from_hex(seal), previous.and_then(SealKey::from_hex), HashKey::new(HASH_A.as_bytes()), None)
}

#[test]
fn sealed_bytes_open_with_the_same_aad_and_hide_the_plaintext() {
    let k = ring(A, None);
    let plain = b"ann@example.com called [EMAIL_1]";
    let sealed = k.seal(b"session\0alice", plain).unwrap();
    assert_eq!(sealed.len(), SEALED_OVERHEAD + plain.len());
    assert!(!sealed.windows(3).any(|w| w == b"ann"));
    assert_eq!(k.open(b"session\0alice", &sealed).unwrap(), plain);
    // A fresh nonce every time: the same message seals to different bytes.
    assert_ne!(sealed, k.seal(b"session\0alice", plain).unwrap());
    // Empty plaintext and empty aad are values like any other.
    assert_eq!(k.open(b"", &k.seal(b"", b"").unwrap()).unwrap(), b"");
}

#[test]
fn every_flipped_byte_fails_to_open() {
    let k = ring(A, None);
    let sealed = k.seal(b"aad", b"a short secret").unwrap();
    for i in 0..sealed.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = sealed.clone();
            bad[i] ^= bit;
            let err = k.open(b"aad", &bad).unwrap_err();
            // The version byte makes it malformed, the key id unknown, anything else tampered.
            let expected = match i {
                0 => OpenError::Malformed,
                1..=4 => OpenError::UnknownKey,
                _ => OpenError::Tampered,
            };
            assert_eq!(err, expected, "byte {i} bit {bit:#x}");
        }
    }
    // Truncated anywhere, or extended, it fails too.
    for len in 0..sealed.len() {
        assert!(k.open(b"aad", &sealed[..len]).is_err(), "length {len}");
    }
    let mut longer = sealed.clone();
    longer.push(0);
    assert_eq!(k.open(b"aad", &longer), Err(OpenError::Tampered));
}

#[test]
fn another_aad_does_not_open() {
    let k = ring(A, None);
    let sealed = k.seal(b"session\0alice", b"value").unwrap();
    for aad in [&b"session\0bob"[..], b"session\0alic", b"session\0alice\0", b""] {
        assert_eq!(k.open(aad, &sealed), Err(OpenError::Tampered));
    }
}

#[test]
fn the_previous_key_opens_and_an_unknown_key_does_not() {
    let old = ring(A, None);
    let sealed = old.seal(b"aad", b"value").unwrap();
    let rotated = ring(B, Some(A));
    assert_eq!(rotated.open(b"aad", &sealed).unwrap(), b"value");
    // New values are sealed under the new key, which the old keyring does not know.
    let new = rotated.seal(b"aad", b"value").unwrap();
    assert_eq!(old.open(b"aad", &new), Err(OpenError::UnknownKey));
    // Once the previous key is removed, the old value is under an unknown key.
    assert_eq!(ring(B, None).open(b"aad", &sealed), Err(OpenError::UnknownKey));
    assert_eq!(Keyring::default().open(b"aad", &sealed), Err(OpenError::UnknownKey));
    assert_eq!(Keyring::default().seal(b"aad", b"value"), Err(MissingKey(KeyUse::Seal)));
}

#[test]
fn keyed_hashes_depend_on_key_domain_and_data() {
    let a = ring(A, None);
    let h = a.keyed_hash("session", b"alice").unwrap();
    assert_eq!(h, a.keyed_hash("session", b"alice").unwrap());
    assert_ne!(h, a.keyed_hash("audit.identity", b"alice").unwrap());
    assert_ne!(h, a.keyed_hash("session", b"bob").unwrap());
    // The domain is length-prefixed: moving bytes between domain and data changes the hash.
    assert_ne!(a.keyed_hash("ab", b"c").unwrap(), a.keyed_hash("a", b"bc").unwrap());
    let b = Keyring::new(None, None, HashKey::new(HASH_B.as_bytes()), HashKey::new(HASH_A.as_bytes()));
    assert_ne!(h, b.keyed_hash("session", b"alice").unwrap());
    assert_eq!(b.keyed_hash_previous("session", b"alice"), Some(h));
    assert_eq!(a.keyed_hash_previous("session", b"alice"), None);
    assert_eq!(Keyring::default().keyed_hash("session", b"alice"), Err(MissingKey(KeyUse::Hash)));
}

#[test]
fn debug_shows_key_ids_never_key_bytes() {
    let k = Keyring::new(
        SealKey::from_hex(A),
        SealKey::from_hex(B),
        HashKey::new(HASH_A.as_bytes()),
        HashKey::new(HASH_B.as_bytes()),
    );
    let text = format!("{k:?} {:?} {:?}", k.seal_key().unwrap(), k.hash_key().unwrap());
    let id = k.seal_key().unwrap().id().to_owned();
    assert!(text.contains(&id), "{text}");
    for secret in [A, B, "0001020304", "hash key", "thirty-two"] {
        assert!(!text.contains(secret), "{text}");
    }
    // Not the bytes as a Debug list of numbers either.
    assert!(!text.contains("[0, 1, 2"), "{text}");
}

#[test]
fn keys_come_from_the_environment_by_name() {
    let env = |name: &str| match name {
        "PG_SEAL_KEY" => Some(B.to_owned()),
        "PG_SEAL_KEY_PREVIOUS" => Some(A.to_owned()),
        "PG_HASH_KEY" => Some(HASH_A.to_owned()),
        _ => None,
    };
    let k = Keyring::from_env(&KeyNames::default(), &env).unwrap();
    assert!(k.has(KeyUse::Seal) && k.has(KeyUse::Hash));
    assert_eq!(k.seal_keys().count(), 2);
    let sealed = ring(A, None).seal(b"x", b"y").unwrap();
    assert_eq!(k.open(b"x", &sealed).unwrap(), b"y");
    let none = Keyring::from_env(&KeyNames::default(), &|_| None).unwrap();
    let e = none.require(&KeyNames::default(), KeyUse::Seal, "session is configured").unwrap_err();
    assert_eq!(e.field, "keys.encrypt");
    assert!(e.problem.contains("PG_SEAL_KEY") && e.problem.contains("session"), "{e}");
    assert!(k.require(&KeyNames::default(), KeyUse::Hash, "x").is_ok());
}

#[test]
fn malformed_or_orphan_keys_name_the_variable_not_the_value() {
    let names = KeyNames::default();
    let bad_seal = |n: &str| (n == "PG_SEAL_KEY_PREVIOUS").then(|| "not-hex-secret-value".to_owned());
    let e = Keyring::from_env(&names, &bad_seal).unwrap_err();
    assert_eq!(e.field, "keys.encrypt");
    assert!(e.problem.contains("PG_SEAL_KEY_PREVIOUS") && !e.problem.contains("not-hex"), "{e}");
    let short_hash = |n: &str| (n == "PG_HASH_KEY").then(|| "short-secret".to_owned());
    let e = Keyring::from_env(&names, &short_hash).unwrap_err();
    assert!(e.field == "keys.hash" && !e.problem.contains("short-secret"), "{e}");
    let orphan = |n: &str| (n == "PG_HASH_KEY_PREVIOUS").then(|| HASH_A.to_owned());
    let e = Keyring::from_env(&names, &orphan).unwrap_err();
    assert!(e.field == "keys.hash" && e.problem.contains("PG_HASH_KEY_PREVIOUS"), "{e}");
    let bad_name = KeyNames { encrypt: "PG SEAL".to_owned(), ..KeyNames::default() };
    assert_eq!(Keyring::from_env(&bad_name, &|_| None).unwrap_err().field, "keys.encrypt");
}
