"""Cross-building riscv64 wheels on an x86_64 machine: the cross root, its files, the build."""
