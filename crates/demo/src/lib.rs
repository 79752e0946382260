//! The demo city: a synthetic county-level city written into an empty database through the
//! store and the case workflow (`city`), and the files its departments would send about its
//! people (`feeds`). Nothing here is a use case; it lives apart so the services hold only those.

pub mod city;
pub mod feeds;
mod openness;
mod recipients;
mod social;

pub use city::{generate, DemoReport, DemoUser, COUNTY_CODE, COUNTY_NAME, DEMO_PASSWORD};
