//! Configuration: the raw JSON document, validated and compiled once per VM.
