//! `sqlx::migrate!` embeds the migrations at compile time but does not tell Cargo to watch them.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
