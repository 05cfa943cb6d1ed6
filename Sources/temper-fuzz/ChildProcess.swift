import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a child running a batch ended.
enum ChildOutcome: Equatable {
    /// Every input from the start index ran to completion (parsed or refused).
    case finished
    /// The child died (signal, or a non-zero exit) while running input `index`.
    case crashed(index: Int, reason: String)
    /// Input `index` ran longer than the time limit; the child was killed.
    case hung(index: Int)
    /// The child died before its first input (set-up failed): a harness problem, not a finding.
    case setupFailed(reason: String)
}

/// Runs `temper-fuzz child ...` as a separate process, so a trap (which kills the process) or a
/// runaway allocation is observed from outside instead of ending the campaign.
///
/// The child reports progress on descriptor 3: `ready`, then the index of each input before it
/// runs it, then `done N` (N inputs accepted). Its stdout is discarded; its stderr goes to a file whose tail becomes the
/// crash report (Swift prints "Fatal error: ..." there).
struct ChildProcess {
    /// The fuzzer's own executable.
    let executable: String
    /// Seconds one input may run before it counts as a hang.
    let inputTimeout: Double
    /// Seconds the child may take to set up (load plugins, build the tokenizer).
    let setupTimeout: Double = 60
    /// Address-space limit of the child, in megabytes (RLIMIT_AS).
    let memoryMB: Int

    /// Runs inputs `from...` of `batch` for `target` and reports how the child ended; `accepted`
    /// grows by the number of inputs the parser accepted (reported by a child that finished).
    func run(target: String, batch: URL, from: Int, scratch: URL, stderrFile: URL, accepted: inout Int) throws -> ChildOutcome {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw FuzzError("pipe: \(String(cString: strerror(errno)))") }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderrFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // Close the read end before the dup2: it may itself be descriptor 3.
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 3)

        let args = [executable, "child", target, batch.path, "--from", String(from), "--scratch", scratch.path,
                    "--memory-mb", String(memoryMB)]
        // One kernel thread and a small buffer cache: allocations then reflect the input, and the
        // address-space limit is not spent on reuse caches.
        var env = ProcessInfo.processInfo.environment
        env["TEMPER_NUM_THREADS"] = "1"
        env["TEMPER_ALLOCATOR_CACHE_MB"] = "16"
        let argv = args.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        close(writeEnd)
        guard rc == 0 else {
            close(readEnd)
            throw FuzzError("cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        defer { close(readEnd) }

        var current: Int? = nil
        var ready = false
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var deadline = Date().addingTimeInterval(setupTimeout)
        while true {
            var pfd = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let waitMs = Int32(max(0, min(Double(Int32.max), deadline.timeIntervalSinceNow * 1000)))
            let n = poll(&pfd, 1, waitMs)
            if n < 0 && errno == EINTR { continue }
            if n == 0 {
                kill(pid, SIGKILL)
                _ = reap(pid)
                if let current { return .hung(index: current) }
                return .setupFailed(reason: ready ? "no exit within \(Int(setupTimeout)) s after its last input" : "not ready within \(Int(setupTimeout)) s of starting")
            }
            let got = read(readEnd, &buffer, buffer.count)
            if got <= 0 { break }
            pending += buffer[0..<got]
            while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<nl], as: UTF8.self)
                pending.removeSubrange(...nl)
                if line == "ready" { ready = true }
                else if line.hasPrefix("done ") { current = nil; accepted += Int(line.dropFirst(5)) ?? 0 }
                else if let i = Int(line) { current = i }
                // Only an input is held to the per-input limit; set-up and exit get the long one.
                deadline = Date().addingTimeInterval(current == nil ? setupTimeout : inputTimeout)
            }
        }
        let status = reap(pid)
        if status.normal && current == nil && ready { return .finished }
        guard ready, let current else { return .setupFailed(reason: status.description) }
        return .crashed(index: current, reason: status.description)
    }

    /// How a process ended, from waitpid.
    struct ExitStatus {
        var normal: Bool
        var description: String
    }

    private func reap(_ pid: pid_t) -> ExitStatus {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7F
        if signal != 0 {
            let name = String(cString: strsignal(signal))
            return ExitStatus(normal: false, description: "killed by signal \(signal) (\(name))")
        }
        let code = (status >> 8) & 0xFF
        return ExitStatus(normal: code == 0, description: "exit status \(code)")
    }
}
