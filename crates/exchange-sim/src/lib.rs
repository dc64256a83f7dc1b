//! Placeholder until the exchange issue lands.
