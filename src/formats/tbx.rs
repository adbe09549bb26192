//! TBX glossaries (TBX 2019 and TBX v2 `martif`).
