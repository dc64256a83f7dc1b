//! Request signing: the HMAC every signer shares. Each exchange's pure signer lives in its adapter
//! module (the caller passes the timestamp, so the exchanges' published vectors can be replayed)
//! and is re-exported here.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub(crate) fn hmac_sha256(secret: &SecretString, message: &[u8]) -> [u8; 32] {
    // EXPOSE: the secret is the HMAC key; it goes into the MAC state and nowhere else.
    let key = secret.expose_secret().as_bytes();
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of every length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

// The signers live with their exchanges' adapters; these names stay for callers of `sign::…`.
pub use super::binance::binance_sign;
pub use super::bitget::bitget_sign;
pub use super::bybit::bybit_sign;
pub use super::deribit::deribit_sign;
pub use super::gate::gate_sign;
pub use super::kraken::kraken_sign;
pub use super::kucoin::{kucoin_passphrase, kucoin_sign};
pub use super::okx::{okx_sign, okx_timestamp};
