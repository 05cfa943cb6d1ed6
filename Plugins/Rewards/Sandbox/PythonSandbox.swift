import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A failure of the sandbox machinery itself (not of the code it runs).
enum SandboxError: Error, CustomStringConvertible {
    case system(String, Int32)
    case unavailable(String)
    /// The launcher could not build the sandbox (its stderr's `sandbox setup failed: <cause>`).
    case setup(String)

    var description: String {
        switch self {
        case .system(let what, let code): return "code-exec sandbox: \(what) failed: \(String(cString: strerror(code)))"
        case .unavailable(let why): return "code-exec sandbox: \(why)"
        case .setup(let cause): return "code-exec sandbox: setup failed (no completion code ran): \(cause)"
        }
    }
}

/// How a run is contained.
enum SandboxIsolation: String {
    /// User, mount, network, PID, IPC and UTS namespaces plus rlimits (see `SandboxScripts.launcher`).
    case namespaces
    /// rlimits, a separate uid and a temporary folder only: no network or file-view isolation.
    case rlimits
}

/// Resource limits of one run.
struct SandboxLimits {
    /// Wall-clock seconds before the run is killed.
    var wallSeconds: Double
    /// RLIMIT_CPU in seconds (per process).
    var cpuSeconds: Int
    /// RLIMIT_AS in bytes (per process).
    var memoryBytes: Int
    /// RLIMIT_FSIZE in bytes.
    var fileSizeBytes: Int
    /// RLIMIT_NPROC: processes and threads the sandbox's user may have at once.
    var processes: Int
    /// RLIMIT_NOFILE.
    var openFiles: Int
    /// Size of the sandbox's tmpfs root (namespaces mode), in bytes.
    var tmpfsBytes: Int
    /// The unprivileged uid/gid runs use when the host runs as root (nobody).
    var uid: Int = 65534
}

/// The result of running one completion against its tests.
struct SandboxOutcome: Equatable {
    /// Tests that passed.
    var passed: Int
    /// Tests run (0 when the harness never reported).
    var total: Int
    /// Why the score is below 1 (first failing test, limit hit, crash), empty when all passed.
    var reason: String
}

/// Runs Python code with its tests in a fresh sandbox per run. Safe to call from several threads.
struct PythonSandbox {
    let python: String
    let limits: SandboxLimits
    let isolation: SandboxIsolation
    let sitePackages: Bool

    /// Runs `code`, then `setup`, then each of `tests` in one interpreter; never throws for
    /// anything the code does, only when a process cannot be started or the sandbox cannot be set
    /// up (a score of 0 would blame the completion for the host's problem).
    func run(code: String, setup: String, tests: [String]) throws -> SandboxOutcome {
        let nonce = Self.nonce()
        let fields = [nonce, code, setup] + tests
        if let bad = fields.dropFirst().firstIndex(where: { $0.utf8.contains(0) }) {
            let what = bad == 1 ? "the code" : bad == 2 ? "the test setup" : "test \(bad - 3)"
            return SandboxOutcome(passed: 0, total: tests.count, reason: "\(what) contains a NUL character, which Python source cannot")
        }
        let settings: [String] = [
            isolation.rawValue, String(limits.uid), python, sitePackages ? "1" : "0", String(limits.wallSeconds),
            String(limits.cpuSeconds), String(limits.memoryBytes), String(limits.fileSizeBytes), String(limits.processes),
            String(limits.openFiles), String(max(1, limits.tmpfsBytes / 1024)), SandboxScripts.harness,
        ]
        // The launcher is trusted and needs no site either; -I keeps PYTHON* variables out.
        let result = try Subprocess.run([python, "-I", "-S", "-B", "-c", SandboxScripts.launcher] + settings,
                                        env: ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"],
                                        input: Array(fields.joined(separator: "\0").utf8), timeout: limits.wallSeconds + 5)
        return try Self.interpret(result, nonce: nonce, limits: limits)
    }

    /// Reads the harness's result line, or explains why there is none; throws `SandboxError.setup`
    /// when the launcher reports that it could not build the sandbox. Exit status 97 alone is not
    /// enough (the completion can exit with any status), the launcher's stderr line must say so too.
    static func interpret(_ result: SubprocessResult, nonce: String, limits: SandboxLimits) throws -> SandboxOutcome {
        let marker = "@@" + nonce + " "
        if let line = result.stdout.split(separator: "\n").last(where: { $0.hasPrefix(marker) }) {
            let fields = line.dropFirst(marker.count).split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            let counts = fields[0].split(separator: " ").compactMap { Int($0) }
            if counts.count == 2 {
                return SandboxOutcome(passed: counts[0], total: counts[1], reason: fields.count > 1 ? String(fields[1]) : "")
            }
        }
        let setupFailure = "sandbox setup failed: "
        if result.status == 97, !result.killedByHost,
           let line = result.stderr.split(separator: "\n").last(where: { !$0.isEmpty }), line.hasPrefix(setupFailure) {
            throw SandboxError.setup(String(line.dropFirst(setupFailure.count)))
        }
        return SandboxOutcome(passed: 0, total: 0, reason: failureReason(result, limits: limits))
    }

    private static func failureReason(_ result: SubprocessResult, limits: SandboxLimits) -> String {
        let lastError = result.stderr.split(separator: "\n").last.map { ": " + $0.prefix(300) } ?? ""
        if result.killedByHost || result.status == 124 {
            return "wall-time limit of \(limits.wallSeconds) s exceeded"
        }
        switch result.status {
        case 128 + SIGXCPU: return "CPU-time limit of \(limits.cpuSeconds) s exceeded"
        case 128 + SIGKILL: return "killed (SIGKILL: CPU-time hard limit or out of memory)" + lastError
        case 128 + SIGXFSZ: return "file-size limit exceeded"
        case 128...: return "killed by signal \(result.status - 128)" + lastError
        default: return "the interpreter exited with status \(result.status) before reporting" + lastError
        }
    }

    private static func nonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(generator.next() as UInt64, radix: 16) }.joined()
    }

    /// Whether namespaces work here, found once per process by running a trivial program in them.
    static func namespacesWork(python: String) -> (Bool, String) {
        let probe = PythonSandbox(python: python, limits: SandboxLimits(wallSeconds: 10, cpuSeconds: 10, memoryBytes: 1 << 30,
                                                                         fileSizeBytes: 1 << 20, processes: 8, openFiles: 32,
                                                                         tmpfsBytes: 1 << 20),
                                  isolation: .namespaces, sitePackages: false)
        do {
            let outcome = try probe.run(code: "x = 1", setup: "", tests: ["assert x == 1"])
            return outcome.passed == 1 ? (true, "") : (false, outcome.reason)
        } catch {
            return (false, "\(error)")
        }
    }
}
