"""The build host: distro profile, sysroot, toolchain, pkg-config, OpenBLAS, capacity, and the doctor's checks."""
