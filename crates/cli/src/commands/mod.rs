pub mod audit;
pub mod bots;
pub mod guard;
pub mod keys;
pub mod orphans;
pub mod revoke;
pub mod run;
pub mod scan;
