//! The feeder's pure parts, as a library: Bybit frame parsing (`ticker`), which the binary
//! uses and the fuzz targets (`fuzz/`) drive.

pub mod ticker;

#[doc(hidden)]
pub mod fuzzing;
