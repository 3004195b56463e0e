//! placeholder replaced below
pub fn run() -> Result<(), String> {
    Err("bench is not built yet".into())
}
