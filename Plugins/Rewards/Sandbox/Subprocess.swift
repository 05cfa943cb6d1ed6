import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a finished child process left behind.
struct SubprocessResult {
    /// Exit code, or 128 + n when signal n ended it.
    var status: Int32
    /// The last `outputLimit` bytes of stdout (the end is where a result line is).
    var stdout: String
    /// The last `outputLimit` bytes of stderr.
    var stderr: String
    /// Whether the host's own deadline ran out and it killed the process group.
    var killedByHost: Bool
}

/// Spawns a program in its own process group with stdin/stdout/stderr on pipes, feeds stdin,
/// collects the tails of both outputs, and kills the whole group at a deadline. posix_spawn (not
/// fork) because the host is multithreaded; every descriptor is close-on-exec from its creation so
/// runs started at the same time on other threads never inherit each other's ends (which would
/// delay their EOF).
enum Subprocess {
    /// Bytes of each output kept (the tail).
    static let outputLimit = 32 * 1024

    /// Runs `argv` (argv[0] is an absolute path) with environment `env`.
    static func run(_ argv: [String], env: [String], input: [UInt8], timeout: Double) throws -> SubprocessResult {
        // Socket pairs rather than pipes: SOCK_CLOEXEC sets close-on-exec atomically (Glibc's pipe2
        // is not visible to Swift), and send(MSG_NOSIGNAL) to a child that has exited returns EPIPE
        // instead of raising SIGPIPE in the host.
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        for (index, name) in ["stdin", "stdout", "stderr"].enumerated() {
            var pair: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
                let code = errno
                closeAll(inPipe + outPipe + errPipe)
                throw SandboxError.system("socketpair for \(name)", code)
            }
            // Element 0 is the child's end for stdin, element 1 for the outputs, as with pipe().
            switch index {
            case 0: inPipe = pair
            case 1: outPipe = pair
            default: errPipe = pair
            }
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var pid: pid_t = 0
        let spawnError = withCStrings(argv) { cArgv in
            withCStrings(env) { cEnv in posix_spawn(&pid, argv[0], &actions, &attributes, cArgv, cEnv) }
        }
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        guard spawnError == 0 else {
            closeAll([inPipe[1], outPipe[0], errPipe[0]])
            throw SandboxError.system("starting \(argv[0])", spawnError)
        }

        var collector = OutputCollector(stdinFD: inPipe[1], stdoutFD: outPipe[0], stderrFD: errPipe[0], input: input)
        let killed = !collector.pump(until: Date().addingTimeInterval(timeout), child: pid)
        if killed { kill(-pid, SIGKILL) }
        collector.closeAll()

        var status: Int32 = collector.reapedStatus ?? 0
        if collector.reapedStatus == nil {
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        // Whatever the launcher left in its group (it should be nothing) goes with it.
        kill(-pid, SIGKILL)
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return SubprocessResult(status: code, stdout: collector.stdout.text, stderr: collector.stderr.text, killedByHost: killed)
    }

    private static func closeAll(_ fds: [Int32]) { for fd in fds where fd >= 0 { close(fd) } }

    /// Calls `body` with a NULL-terminated C array of `strings`.
    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { for p in pointers { free(p) } }
        return body(pointers)
    }
}

/// The tail of an output stream, bounded in size.
private struct Tail {
    private(set) var bytes: [UInt8] = []

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: chunk)
        if bytes.count > 2 * Subprocess.outputLimit { bytes.removeFirst(bytes.count - Subprocess.outputLimit) }
    }

    var text: String { String(decoding: bytes.suffix(Subprocess.outputLimit), as: UTF8.self) }
}

/// Moves bytes between the host and the child's pipes with poll until both outputs close.
private struct OutputCollector {
    var stdinFD: Int32
    var stdoutFD: Int32
    var stderrFD: Int32
    let input: [UInt8]
    var written = 0
    var stdout = Tail()
    var stderr = Tail()
    /// The child's wait status when `pump` already reaped it.
    var reapedStatus: Int32?

    init(stdinFD: Int32, stdoutFD: Int32, stderrFD: Int32, input: [UInt8]) {
        self.stdinFD = stdinFD
        self.stdoutFD = stdoutFD
        self.stderrFD = stderrFD
        self.input = input
        _ = fcntl(stdinFD, F_SETFL, fcntl(stdinFD, F_GETFL) | O_NONBLOCK)
        if input.isEmpty { close(stdinFD); self.stdinFD = -1 }
    }

    /// Returns false when `deadline` passed before both outputs reached EOF or `child` exited. A
    /// process that escaped the sandbox's kill (rlimits mode) may still hold the outputs open, so
    /// the launcher's exit, checked between short polls, also ends the collection.
    mutating func pump(until deadline: Date, child: pid_t) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while stdoutFD >= 0 || stderrFD >= 0 {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return false }
            var fds = [pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)]
            let ready = poll(&fds, 3, Int32(min(remaining * 1000, 100).rounded(.up)))
            if ready < 0 {
                if errno == EINTR { continue }
                return false
            }
            if ready == 0 {
                var status: Int32 = 0
                if waitpid(child, &status, WNOHANG) == child {
                    reapedStatus = status
                    return true
                }
                continue
            }
            if fds[2].revents != 0 { feedInput() }
            for (slot, isOut) in [(0, true), (1, false)] where fds[slot].revents != 0 {
                let fd = isOut ? stdoutFD : stderrFD
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    buffer.withUnsafeBytes { chunk in
                        let part = UnsafeRawBufferPointer(rebasing: chunk[0..<n])
                        if isOut { stdout.append(part) } else { stderr.append(part) }
                    }
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(fd)
                    if isOut { stdoutFD = -1 } else { stderrFD = -1 }
                }
            }
        }
        return true
    }

    private mutating func feedInput() {
        let n = input.withUnsafeBytes { send(stdinFD, $0.baseAddress! + written, $0.count - written, Int32(MSG_NOSIGNAL)) }
        if n > 0 { written += n }
        if written == input.count || (n < 0 && errno != EAGAIN && errno != EINTR) {
            close(stdinFD)
            stdinFD = -1
        }
    }

    mutating func closeAll() {
        for fd in [stdinFD, stdoutFD, stderrFD] where fd >= 0 { close(fd) }
        stdinFD = -1; stdoutFD = -1; stderrFD = -1
    }
}
