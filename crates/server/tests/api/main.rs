//! The node server's API, end to end over loopback HTTP: the access policy on every route,
//! authentication, bad input, and what each route does.

mod alerts;
mod auth;
mod bad_input;
mod common;
mod constituency;
mod delivery;
mod features;
mod leaks;
mod taxii;
