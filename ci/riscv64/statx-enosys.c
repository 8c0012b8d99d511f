/*
 * statx-enosys: run a command with statx(2) and faccessat2(2) failing with ENOSYS.
 *
 * Debian's proot 5.1 does not translate statx or faccessat2, so inside a guest those
 * calls see the host filesystem and gcc, meson and ls misbehave. With both calls
 * refused, qemu-user falls back to fstatat/faccessat, which proot does translate.
 * The filter is inherited by every child, including the tracees proot starts.
 *
 * usage: statx-enosys COMMAND [ARG...]
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static int refuse(scmp_filter_ctx ctx, const char *name)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) {
        fprintf(stderr, "statx-enosys: libseccomp does not know %s\n", name);
        return -1;
    }
    return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s COMMAND [ARG...]\n", argv[0]);
        return 2;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        perror("statx-enosys: PR_SET_NO_NEW_PRIVS");
        return 126;
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL) {
        fprintf(stderr, "statx-enosys: seccomp_init failed\n");
        return 126;
    }
    /* proot cancels a syscall by rewriting its number to an invalid one, which
     * libseccomp would otherwise treat as a foreign ABI and kill the process for. */
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
    if (rc == 0)
        rc = refuse(ctx, "statx");
    if (rc == 0)
        rc = refuse(ctx, "faccessat2");
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc != 0) {
        fprintf(stderr, "statx-enosys: installing the filter failed: %s\n", strerror(-rc));
        return 126;
    }
    execvp(argv[1], argv + 1);
    fprintf(stderr, "statx-enosys: cannot run %s: %s\n", argv[1], strerror(errno));
    return 127;
}
