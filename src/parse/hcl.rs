//! STUB until the HCL parser lands.
