/* Compiled and run inside the riscv64 userland: proves gcc, the linker and libc work. */
#include <stdio.h>
#include <sys/stat.h>

int main(void)
{
    struct stat st;
    if (stat("/", &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "toolchain probe: stat(\"/\") failed\n");
        return 1;
    }
#if defined(__riscv) && __riscv_xlen == 64
    puts("toolchain probe: gcc compiled and ran riscv64 code");
    return 0;
#else
    fprintf(stderr, "toolchain probe: not riscv64 code\n");
    return 1;
#endif
}
