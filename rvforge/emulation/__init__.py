"""riscv64 emulation: the host side of the cached userland, the guest-side steps and their report."""
