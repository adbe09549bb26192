//! API keys and roles.
