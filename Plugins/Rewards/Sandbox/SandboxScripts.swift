/// The two Python programs the sandbox runs. They are Temper's own code, passed with `-c`, so no
/// file of them has to exist on the host or inside the sandbox.
enum SandboxScripts {
    /// Runs as the host's user (root here and in CI), with the settings as arguments in the order
    /// of `keys` and the task on stdin (nonce, code, setup and tests, UTF-8, NUL-separated: Python
    /// source cannot contain NUL), then:
    ///
    /// `ns` mode: drops to uid/gid `uid` (65534 by default) when it is root, so the kernel enforces
    /// RLIMIT_NPROC (it exempts root) and host files are protected by ordinary permissions; creates
    /// user, mount, network, PID, IPC and UTS namespaces with namespace-root mapped to that uid;
    /// forks the namespace's init, which mounts a size-limited tmpfs as the new root holding read-only
    /// binds of /usr (and /bin, /lib… where they are real folders), /dev/null, /dev/zero,
    /// /dev/urandom, and an empty /work and /tmp; pivots into it and detaches the host's tree; makes
    /// exec drop every capability (securebits NOROOT, empty bounding set, no_new_privs); and forks
    /// the program, which sets the rlimits and execs the interpreter on the harness. The launcher
    /// stays outside the PID namespace and kills the init after `wall` seconds, which kills every
    /// process in the namespace with it.
    ///
    /// `rlimits` mode (no namespaces): the same uid drop, rlimits and harness in a fresh host temp
    /// folder, removed afterwards, in a process group of its own that is killed at the end; no
    /// network or file-view isolation, and a process that calls setsid() escapes the group kill.
    ///
    /// Exit status: the harness's; 124 when the wall time ran out; 128+n for signal n; 97 when the
    /// sandbox could not be set up (before any completion code ran).
    static let launcher = #"""
import os, sys, resource
import _signal as signal
keys = ("mode", "uid", "python", "site", "wall", "cpu", "memory", "fsize", "nproc", "nofile", "tmpfs_kb", "harness")
lim = dict(zip(keys, sys.argv[1:]))
for key in ("uid", "cpu", "memory", "fsize", "nproc", "nofile", "tmpfs_kb"):
    lim[key] = int(lim[key])
lim["wall"], lim["site"] = float(lim["wall"]), lim["site"] == "1"
task = sys.stdin.buffer.read()
uid = lim["uid"]
def fail(what, err=None):
    sys.stderr.write("sandbox setup failed: %s%s\n" % (what, ": " + os.strerror(err) if err else ""))
    sys.stderr.flush()
    os._exit(97)
def write_task(folder):
    path = os.path.join(folder, ".task")
    with open(path, "wb") as f:
        f.write(task)
    os.chmod(path, 0o644)
def limit_and_exec(folder):
    os.chdir(folder)
    for res, value in ((resource.RLIMIT_CPU, lim["cpu"]), (resource.RLIMIT_AS, lim["memory"]),
                       (resource.RLIMIT_FSIZE, lim["fsize"]), (resource.RLIMIT_NPROC, lim["nproc"]),
                       (resource.RLIMIT_NOFILE, lim["nofile"]), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(res, (value, value + 1 if res == resource.RLIMIT_CPU else value))
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    argv = [lim["python"], "-I", "-B"] + ([] if lim["site"] else ["-S"]) + ["-c", lim["harness"]]
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": folder, "LANG": "C.UTF-8"}
    try:
        os.execve(lim["python"], argv, env)
    except OSError as e:
        fail("exec " + lim["python"], e.errno)
def supervise(pid, cleanup=None):
    timed_out = []
    def on_alarm(*_):
        timed_out.append(True)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, lim["wall"])
    _, status = os.waitpid(pid, 0)
    signal.setitimer(signal.ITIMER_REAL, 0)
    if cleanup:
        cleanup()
    if timed_out:
        os._exit(124)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
def drop_user():
    if os.getuid() == 0:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
if lim["mode"] == "rlimits":
    import tempfile, shutil
    folder = tempfile.mkdtemp(prefix="temper-code-")
    write_task(folder)
    if os.getuid() == 0:
        os.chown(folder, uid, uid)
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        try:
            drop_user()
        except OSError as e:
            fail("switching to uid %d" % uid, e.errno)
        limit_and_exec(folder)
    def cleanup():
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        shutil.rmtree(folder, ignore_errors=True)
    supervise(pid, cleanup)
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def check(result, what):
    if result != 0:
        fail(what, ctypes.get_errno())
outer_uid, outer_gid = (uid, uid) if os.getuid() == 0 else (os.getuid(), os.getgid())
try:
    drop_user()
except OSError as e:
    fail("switching to uid %d" % uid, e.errno)
# Changing uid made the process non-dumpable, which leaves /proc/self owned by root and the id
# maps below unwritable; exec would reset it anyway.
libc.prctl(4, 1, 0, 0, 0)
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x4000000, 0x8000000, 0x10000000, 0x20000000, 0x40000000
check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS), "unshare (user namespaces unavailable?)")
try:
    for name, text in (("setgroups", "deny"), ("uid_map", "0 %d 1" % outer_uid), ("gid_map", "0 %d 1" % outer_gid)):
        with open("/proc/self/" + name, "w") as f:
            f.write(text)
except OSError as e:
    fail("writing the namespace's id maps", e.errno)
pid = os.fork()
if pid != 0:
    supervise(pid)
def enter_new_root():
    PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_SECUREBITS, PR_SET_NO_NEW_PRIVS = 1, 24, 28, 38
    MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 32, 4096, 16384, 1 << 18
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    def mount(source, target, fstype, flags, data=None):
        enc = lambda s: s.encode() if s is not None else None
        check(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), "mount %s on %s" % (source, target))
    def locked_flags(path):
        # Remounting a bind inherited from a more privileged namespace must keep its atime and
        # nosuid/nodev/noexec flags (the kernel locks them); statvfs reports them with the same bits
        # as MS_*, except relatime (ST 4096 = MS 1<<21).
        f = os.statvfs(path).f_flag
        return (f & (MS_NOSUID | MS_NODEV | MS_NOEXEC | 1024 | 2048)) | ((1 << 21) if f & 4096 else 0)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = "/tmp"
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=%dk,mode=755" % lim["tmpfs_kb"])
    for name in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host, inside = "/" + name, root + "/" + name
        if os.path.islink(host):
            os.symlink(os.readlink(host), inside)
        elif os.path.isdir(host):
            os.mkdir(inside)
            mount(host, inside, None, MS_BIND | MS_REC)
            mount(None, inside, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | locked_flags(host))
    os.mkdir(root + "/dev")
    for name in ("null", "zero", "urandom"):
        open(root + "/dev/" + name, "w").close()
        mount("/dev/" + name, root + "/dev/" + name, None, MS_BIND)
    os.mkdir(root + "/work", 0o755)
    os.mkdir(root + "/tmp")
    os.chmod(root + "/tmp", 0o1777)
    write_task(root + "/work")
    os.chdir(root)
    SYS_pivot_root = {"x86_64": 155, "aarch64": 41}.get(os.uname().machine)
    if SYS_pivot_root is None:
        fail("pivot_root: unknown syscall number on " + os.uname().machine)
    check(libc.syscall(SYS_pivot_root, b".", b"."), "pivot_root")
    check(libc.umount2(b".", 2), "detaching the host's file tree")
    os.chdir("/")
    check(libc.sethostname(b"sandbox", 7), "sethostname")
    SECBIT_NOROOT, SECBIT_NOROOT_LOCKED, SECBIT_NO_SETUID_FIXUP, SECBIT_NO_SETUID_FIXUP_LOCKED, SECBIT_KEEP_CAPS_LOCKED = 1, 2, 4, 8, 32
    check(libc.prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED, 0, 0, 0), "setting securebits")
    cap = 0
    while libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "setting no_new_privs")
try:
    enter_new_root()
except Exception as e:
    fail("preparing the file tree: %r" % e)
# The completion must not be the namespace's init: init ignores signals it has no handler for,
# SIGXCPU from RLIMIT_CPU included. This init only waits; its exit ends the namespace.
program = os.fork()
if program != 0:
    _, status = os.waitpid(program, 0)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
# This init and the launcher outside count towards the namespace's RLIMIT_NPROC too.
lim["nproc"] += 2
limit_and_exec("/work")
"""#

    /// Runs inside the sandbox as the completion's interpreter: reads and deletes `.task`, executes
    /// the code, then each test in the same globals, and prints `@@<nonce> <passed> <total>\t<reason>`
    /// as its last line. The nonce, known only to the harness, stops a completion from printing a
    /// result of its own; one that exits early or kills the interpreter gets no result line and 0.
    static let harness = #"""
import sys, os
def _run():
    with open(".task", "rb") as f:
        nonce, code, setup, *tests = f.read().decode("utf-8", "replace").split("\0")
    os.remove(".task")
    out, exit_now = sys.stdout, os._exit
    def describe(e):
        try:
            return "%s: %s" % (type(e).__name__, str(e)[:200])
        except BaseException:
            return type(e).__name__
    def report(passed, reason):
        try:
            out.write("\n@@%s %d %d\t%s\n" % (nonce, passed, len(tests), reason.replace("\n", " ")[:300]))
            out.flush()
        finally:
            exit_now(0)
    scope = {"__name__": "solution", "__builtins__": __builtins__}
    try:
        exec(compile(code, "solution.py", "exec"), scope)
    except BaseException as e:
        report(0, "the code raised " + describe(e))
    try:
        if setup:
            exec(compile(setup, "setup.py", "exec"), scope)
    except BaseException as e:
        report(0, "the test setup raised " + describe(e))
    passed, reason = 0, ""
    for i, test in enumerate(tests):
        try:
            exec(compile(test, "test_%d.py" % i, "exec"), scope)
            passed += 1
        except BaseException as e:
            reason = reason or "test %d failed: %s" % (i, describe(e))
    report(passed, reason)
_run()
"""#
}
