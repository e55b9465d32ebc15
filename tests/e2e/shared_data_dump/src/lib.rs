//! Test-only plugin (root id `shared_data_dump`): on `GET /__shared_data_dump` it reads the keys
//! prompt-guard's session store writes in shared data and answers with them as JSON,
//! `{"entries": [{"key": K, "hex": V}], "absent": [K]}`; every other request passes untouched.
//!
//! The proxy-wasm ABI cannot list keys, so it reads the index keys (the current `v2` one and the
//! plain `v1` one of earlier builds) and every session key an index names. The index layout
//! (`u8 version, u32 count, {u64 hash, u64 expiry}*`, little-endian) is the store's
//! (crates/engine/src/store/index.rs); the session key is `<prefix><hash as 16 hex digits>`.
//! It reads the API's stateful mappings the same way: their index (`u8 version, u32 count,
//! {8-byte hash, u64 expiry, u32 size}*`, crates/engine/src/api/stored.rs) and each record, named
//! `<prefix><the hash's bytes in hex>`.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};

const DUMP_PATH: &str = "/__shared_data_dump";
/// (index key, session key prefix) of each store version.
const STORES: [(&str, &str); 2] = [
    ("prompt_guard/v2/sessions", "prompt_guard/v2/session/"),
    ("prompt_guard/v1/sessions", "prompt_guard/v1/session/"),
];

/// (index key, record key prefix) of the API's stateful mappings.
const API_STORE: (&str, &str) = ("prompt_guard/api/v1/index", "prompt_guard/api/v1/mapping/");

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(DumpRoot) });
}}

struct DumpRoot;

impl Context for DumpRoot {}

impl RootContext for DumpRoot {
    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Dump))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Dump;

impl Context for Dump {}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The session hashes an index lists (an unreadable index lists none).
fn listed(index: &[u8]) -> Vec<u64> {
    let mut out = Vec::new();
    let Some(rest) = index.get(5..) else { return out };
    for entry in rest.chunks_exact(16) {
        let mut hash = [0u8; 8];
        hash.copy_from_slice(&entry[..8]);
        out.push(u64::from_le_bytes(hash));
    }
    out
}

/// The record names the API's index lists, in hex.
fn listed_api(index: &[u8]) -> Vec<String> {
    index.get(5..).map_or_else(Vec::new, |rest| rest.chunks_exact(20).map(|e| hex(&e[..8])).collect())
}

impl Dump {
    fn read(&self, key: &str, entries: &mut Vec<String>, absent: &mut Vec<String>) -> Option<Vec<u8>> {
        match self.get_shared_data(key) {
            (Some(value), _) => {
                entries.push(format!("{{\"key\":\"{key}\",\"hex\":\"{}\"}}", hex(&value)));
                Some(value)
            }
            (None, _) => {
                absent.push(format!("\"{key}\""));
                None
            }
        }
    }
}

impl HttpContext for Dump {
    fn on_http_request_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        if self.get_http_request_header(":path").as_deref() != Some(DUMP_PATH) {
            return Action::Continue;
        }
        let mut entries = Vec::new();
        let mut absent = Vec::new();
        for (index_key, prefix) in STORES {
            if let Some(index) = self.read(index_key, &mut entries, &mut absent) {
                for hash in listed(&index) {
                    self.read(&format!("{prefix}{hash:016x}"), &mut entries, &mut absent);
                }
            }
        }
        let (index_key, prefix) = API_STORE;
        if let Some(index) = self.read(index_key, &mut entries, &mut absent) {
            for name in listed_api(&index) {
                self.read(&format!("{prefix}{name}"), &mut entries, &mut absent);
            }
        }
        let body = format!("{{\"entries\":[{}],\"absent\":[{}]}}", entries.join(","), absent.join(","));
        self.send_http_response(200, vec![("content-type", "application/json")], Some(body.as_bytes()));
        Action::Pause
    }
}
