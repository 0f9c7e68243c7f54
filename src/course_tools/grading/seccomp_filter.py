"""The sandbox's seccomp filter: system calls student code never needs, refused with EPERM.

Built with libseccomp's own Python bindings (Debian/Ubuntu ``python3-seccomp``, Fedora
``python3-libseccomp``), which are installed for the system Python, not for the course's venv.
So :mod:`course_tools.grading.sandbox` runs this file as a script with ``/usr/bin/python3`` once per grading
process; it writes the compiled BPF program to stdout, and bwrap loads it (``--seccomp FD``) just
before it starts the sandbox's command, after its own mounts and namespaces are set up.

libseccomp handles the architecture: the program checks the audit architecture first and kills a
process that makes a system call of another ABI (32-bit ``int 0x80`` on x86_64, x32), so no
compat entry point gets around a rule below.

Standalone on purpose: standard library and ``seccomp`` only.
"""

import errno
import sys

#: Refused outright (EPERM): kernel keyrings (a key would outlive the sandbox and reach the next one),
#: tracing and kernel-programming interfaces, io_uring (its operations bypass seccomp), every way to
#: mount or to enter or make namespaces, and a few administrative calls.
DENIED = (
    "add_key", "keyctl", "request_key",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    "perf_event_open", "bpf", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount",
    "fspick", "mount_setattr",
    "unshare", "setns",
    "open_by_handle_at", "name_to_handle_at",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "acct", "swapon", "swapoff", "reboot", "syslog", "quotactl", "lookup_dcookie",
)

#: clone() flags that make namespaces: refused like unshare(). clone3() passes its flags in memory a
#: filter cannot read, so it answers ENOSYS and the C library falls back to clone().
CLONE_NAMESPACE_FLAGS = {
    "CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}  # (CLONE_NEWTIME exists only for clone3 and unshare, both refused)


def build():
    import seccomp

    fltr = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENIED:
        try:
            fltr.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (ValueError, RuntimeError, OSError):
            pass  # not a system call on this architecture (libseccomp cannot resolve it)
    for flag in CLONE_NAMESPACE_FLAGS.values():
        fltr.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    try:
        fltr.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    except (ValueError, RuntimeError, OSError):
        pass
    return fltr


if __name__ == "__main__":
    sys.stdout.flush()
    build().export_bpf(sys.stdout)
