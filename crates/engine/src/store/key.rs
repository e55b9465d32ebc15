//! Shared-data keys for sessions. A key never contains the identity itself, only a stable hash of
//! it, so shared data (visible to every VM of the plugin and to admin tooling) holds no user names.

/// The one key holding the index of stored sessions.
pub const INDEX_KEY: &str = "prompt_guard/v1/sessions";

const SESSION_PREFIX: &str = "prompt_guard/v1/session/";

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 64 bit: defined by its constants alone, so every VM and every build of the filter
/// computes the same key for the same identity (unlike `std`'s hasher, whose algorithm may change).
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h = FNV_OFFSET;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
    }
    h
}

/// The hash naming a session's key.
pub fn session_hash(identity: &str) -> u64 {
    fnv1a(&[identity.as_bytes()])
}

/// A second, differently seeded hash stored inside the record and checked on load: two identities
/// whose key hashes collide then still never see each other's mappings. It guards against
/// accidental collisions; it is not a secret MAC, so identities must come from a trusted source.
pub fn identity_tag(identity: &str) -> u64 {
    fnv1a(&[b"prompt_guard/identity-tag\0", identity.as_bytes()])
}

/// `prompt_guard/v1/session/<16 hex digits>`.
pub fn session_key(hash: u64) -> String {
    format!("{SESSION_PREFIX}{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_published_vectors() {
        // Test vectors from the FNV reference (draft-eastlake-fnv, FNV-1a 64 of "" and "a").
        assert_eq!(fnv1a(&[b""]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(&[b"a"]), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(&[b"foobar"]), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn key_hides_identity_and_differs_by_identity() {
        let k = session_key(session_hash("alice@example.com"));
        assert!(k.starts_with("prompt_guard/v1/session/"));
        assert_eq!(k.len(), SESSION_PREFIX.len() + 16);
        assert!(!k.contains("alice"));
        assert_ne!(k, session_key(session_hash("bob@example.com")));
        assert_ne!(session_hash("alice"), identity_tag("alice"));
    }
}
