import Foundation
import TemperCore

/// Runs a Python completion against the row's unit tests in a sandbox and scores the fraction that
/// pass (RLVR for code, as Open-R1's code reward).
///
/// The program is the last ```python block of the completion (see `CodeExtraction`). The tests
/// come from the column `tests_column`: a JSON list of strings, each one test (MBPP's `test_list`:
/// `assert f(2) == 4`), or a string holding such a JSON list, or any other string as a single test
/// (HumanEval's `check(candidate)` block). The code runs first, then the optional setup code
/// (`setup_column`, MBPP's `test_setup_code`), then each test in the same globals; module name
/// `solution`, so an `if __name__ == "__main__":` demo block does not run. Rows whose test cell is
/// null or an empty list score nil.
///
/// Containment (details in `SandboxScripts.launcher`): with Linux namespaces (`isolation=auto`
/// where they work, or `namespaces`) each run gets no network at all (an empty network namespace,
/// loopback down), its own PID namespace (killing its init kills every process it started, fork
/// bombs included), a tmpfs of `tmpfs_mb` as its whole file tree with only /usr (and /bin, /lib…)
/// from the host, read-only, plus /dev/null, /dev/zero and /dev/urandom; it runs as uid 65534 with
/// no capabilities, under RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_NPROC and RLIMIT_NOFILE, and
/// is killed at the wall-time limit; a seccomp filter makes nested namespaces, mounts, ptrace,
/// keyrings, BPF, perf events, io_uring and module calls fail with EPERM. A sandbox that cannot be
/// set up is an error naming the cause, never a score. Not contained: memory is limited per process (address space),
/// not per sandbox (no cgroups), so `max_processes` × `memory_mb` bounds the total; /usr is
/// readable; CPU time is not shared fairly with the host. Without namespaces (`rlimits`, which must
/// be asked for: `auto` refuses to run untrusted code uncontained) only the rlimits, the uid and a
/// temporary working folder apply: the network and world-readable host files stay reachable, a
/// process that leaves the process group survives until its CPU limit, and a host that does not
/// run as root cannot switch uid, so the code runs as the host's user; a warning says so once.
/// The tests run in a process apart from the completion's code, which they call across with plain
/// data (see `SandboxScripts.harness`): a completion cannot forge the verdict by
/// printing it, exiting early, reading the harness's stack frames, or redefining a builtin the
/// tests use; a test that needs an object of the solution's own class (a method call) fails.
public struct CodeExec: RewardFunction {
    /// Registered name.
    public static let name = "code-exec"
    /// One-line summary for `temper plugins`.
    public static let summary = "fraction of the row's Python tests the completion's code passes, run in a sandbox"
    /// Columns, limits and isolation.
    public static let parameters: [ParameterSpec] = [
        .string("tests_column", default: "tests", doc: "column with the tests: a JSON list of Python statements (MBPP test_list) or one test as a string"),
        .string("setup_column", default: "", doc: "column with code run after the completion and before the tests (MBPP test_setup_code); empty = none"),
        .bool("binary", default: false, doc: "score 1 only when every test passes, else 0"),
        .float("timeout", default: 10, range: .init(lower: 0, lowerInclusive: false, upper: 3600), doc: "wall-clock seconds per run"),
        .int("cpu_time", default: 5, range: .closed(1, 3600), doc: "CPU seconds per process (RLIMIT_CPU)"),
        .int("memory_mb", default: 1024, range: .closed(64, 1_048_576), doc: "address space per process in MiB (RLIMIT_AS)"),
        .int("file_size_mb", default: 16, range: .closed(1, 1_048_576), doc: "largest file a run may write, in MiB (RLIMIT_FSIZE)"),
        .int("max_processes", default: 16, range: .closed(1, 4096), doc: "processes and threads a run may have at once (RLIMIT_NPROC)"),
        .int("max_open_files", default: 64, range: .closed(16, 65536), doc: "open file descriptors per process (RLIMIT_NOFILE)"),
        .int("tmpfs_mb", default: 64, range: .closed(1, 1_048_576), doc: "size of the run's in-memory file tree (namespaces only)"),
        .int("parallel", default: 0, range: .atLeast(0), doc: "runs at once; 0 = one per core"),
        .choice("isolation", ["auto", "namespaces", "rlimits"], default: "auto",
                doc: "auto and namespaces = Linux namespaces, refusing to run where they do not work; rlimits = no namespaces: host files and the network stay reachable (a warning says so)"),
        .string("python", default: "", doc: "interpreter (absolute path under /usr); empty = /usr/bin/python3 or /usr/local/bin/python3"),
        .bool("site_packages", default: false, doc: "let the code import site-packages (starts python without -S)"),
        .string("log_file", default: "", doc: "append one JSON line per scored completion (index, score, passed, total, reason) to this file"),
    ]

    private let testsColumn: String
    private let setupColumn: String
    private let binary: Bool
    private let parallel: Int
    private let logFile: String
    private let requested: String
    private let python: String
    private let limits: SandboxLimits
    private let sitePackages: Bool

    /// Reads the settings and finds the interpreter; namespaces are probed at the first run.
    public init(config: ComponentConfig) throws {
        testsColumn = try config.string("tests_column")
        setupColumn = try config.string("setup_column")
        binary = try config.bool("binary")
        let workers = try config.int("parallel")
        parallel = workers == 0 ? ProcessInfo.processInfo.activeProcessorCount : workers
        logFile = try config.string("log_file")
        requested = try config.string("isolation")
        sitePackages = try config.bool("site_packages")
        let mib = 1 << 20
        limits = SandboxLimits(wallSeconds: try config.double("timeout"), cpuSeconds: try config.int("cpu_time"),
                               memoryBytes: try config.int("memory_mb") * mib, fileSizeBytes: try config.int("file_size_mb") * mib,
                               processes: try config.int("max_processes"), openFiles: try config.int("max_open_files"),
                               tmpfsBytes: try config.int("tmpfs_mb") * mib)
        python = try Self.interpreter(try config.string("python"), isolated: requested != "rlimits")
        try Self.checkIsPython(python)
    }

    /// Scores every row; nil where the row has no tests.
    public func score(_ batch: RewardBatch) throws -> [Float?] {
        try outcomes(batch).map { $0.map(value) }
    }

    /// Every row's outcome (nil where it has no tests), runs spread over `parallel` workers.
    func outcomes(_ batch: RewardBatch) throws -> [SandboxOutcome?] {
        try batch.validate()
        let tests = try batch.column(testsColumn, for: Self.name).enumerated().map { row, cell in
            try Self.tests(in: cell, row: row, column: testsColumn)
        }
        let setups = setupColumn.isEmpty ? nil : try batch.column(setupColumn, for: Self.name)
        let sandbox = PythonSandbox(python: python, limits: limits, isolation: try isolation(), sitePackages: sitePackages)
        let jobs = tests.indices.filter { tests[$0] != nil }
        var outcomes = [SandboxOutcome?](repeating: nil, count: batch.count)
        var firstError: Error?
        let lock = NSLock()
        var next = 0
        DispatchQueue.concurrentPerform(iterations: min(parallel, max(jobs.count, 1))) { _ in
            while true {
                lock.lock()
                let j = next
                next += 1
                lock.unlock()
                guard j < jobs.count else { return }
                let row = jobs[j]
                let setup = setups.map { $0[row] == .null ? "" : $0[row].text } ?? ""
                do {
                    let outcome = try sandbox.run(code: CodeExtraction.python(from: batch.completions[row]), setup: setup, tests: tests[row]!)
                    lock.lock(); outcomes[row] = outcome; lock.unlock()
                } catch {
                    lock.lock(); firstError = firstError ?? error; lock.unlock()
                }
            }
        }
        if let firstError { throw firstError }
        if !logFile.isEmpty { try log(outcomes) }
        return outcomes
    }

    /// The reward of one outcome: pass fraction, or all-or-nothing with `binary`.
    private func value(_ outcome: SandboxOutcome) -> Float {
        guard outcome.total > 0 else { return 0 }
        if binary { return outcome.passed == outcome.total ? 1 : 0 }
        return Float(outcome.passed) / Float(outcome.total)
    }

    /// The tests of one cell: nil for null or an empty list.
    static func tests(in cell: ColumnValue, row: Int, column: String) throws -> [String]? {
        func strings(_ items: [ColumnValue]) throws -> [String]? {
            let texts = try items.map { item -> String in
                guard case .string(let s) = item else {
                    throw SpecError("code-exec: column '\(column)', row \(row): expected a list of test strings, found the element \(item.json)")
                }
                return s
            }
            return texts.isEmpty ? nil : texts
        }
        switch cell {
        case .null: return nil
        case .array(let items): return try strings(items)
        case .string(let s):
            let trimmed = s.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.hasPrefix("["), let data = trimmed.data(using: .utf8),
               let list = try? JSONSerialization.jsonObject(with: data) as? [Any] {
                return try strings(list.map { ($0 as? String).map(ColumnValue.string) ?? .null })
            }
            return trimmed.isEmpty ? nil : [s]
        default:
            throw SpecError("code-exec: column '\(column)', row \(row): expected a list of test strings or a string, found \(cell.json)")
        }
    }

    /// The interpreter: `path`, or the system python3 under /usr. Inside namespaces only /usr (and
    /// /bin, /lib…) of the host is visible, so the interpreter must live there.
    static func interpreter(_ path: String, isolated: Bool) throws -> String {
        let candidates = path.isEmpty ? ["/usr/bin/python3", "/usr/local/bin/python3"] : [path]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw SpecError(path.isEmpty
                ? "code-exec: no Python interpreter at /usr/bin/python3 or /usr/local/bin/python3; set python=/usr/.../python3"
                : "code-exec: python=\(path) is not an executable file")
        }
        guard found.hasPrefix("/") else { throw SpecError("code-exec: python=\(path) must be an absolute path") }
        let real = URL(fileURLWithPath: found).resolvingSymlinksInPath().path
        let visible = ["/usr/", "/bin/", "/lib/", "/lib64/", "/sbin/"]
        if isolated, !visible.contains(where: real.hasPrefix) {
            throw SpecError("code-exec: python=\(found) resolves to \(real), outside /usr, the only host folder visible in the sandbox (use isolation=rlimits to run it without namespaces)")
        }
        return found
    }

    /// Refuses an interpreter that is not Python 3 (`python=/bin/sh` would fail every row and score
    /// them all 0 without a word): it must print its version for `-S -c`.
    static func checkIsPython(_ path: String) throws {
        let probe = "import sys; print('temper-python-probe', sys.version_info[0])"
        let result = try Subprocess.run([path, "-S", "-c", probe], env: ["PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8"], input: [], timeout: 20)
        let answer = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard answer == "temper-python-probe 3" else {
            let said = (answer.isEmpty ? result.stderr : answer).trimmingCharacters(in: .whitespacesAndNewlines)
            throw SpecError("code-exec: python=\(path) is not a Python 3 interpreter: `\(path) -S -c \"\(probe)\"` " +
                            "exited with status \(result.status)\(said.isEmpty ? "" : " and said: \(said.prefix(200))")")
        }
    }

    /// The isolation this run gets (namespaces probed once per process). Completions are untrusted
    /// code, so without namespaces the user must say `isolation=rlimits`, knowing what it leaves open.
    private func isolation() throws -> SandboxIsolation {
        if requested == "rlimits" {
            NamespaceProbe.shared.warnUncontainedOnce()
            return .rlimits
        }
        let (works, why) = NamespaceProbe.shared.result(python: python)
        if works { return .namespaces }
        throw SandboxError.unavailable("isolation=\(requested), but Linux namespaces do not work here (\(why)), so the " +
                                       "completions' code cannot be contained; set isolation=rlimits to run it anyway, with " +
                                       "\(NamespaceProbe.uncontained)")
    }

    /// Appends one JSON line per scored row.
    private func log(_ outcomes: [SandboxOutcome?]) throws {
        var text = ""
        for (i, o) in outcomes.enumerated() {
            guard let o else { continue }
            let line: [String: Any] = ["index": i, "score": Double(value(o)), "passed": o.passed, "total": o.total, "reason": o.reason]
            text += String(decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self) + "\n"
        }
        guard let handle = FileHandle(forWritingAtPath: logFile) ?? {
            FileManager.default.createFile(atPath: logFile, contents: nil) ? FileHandle(forWritingAtPath: logFile) : nil
        }() else {
            throw SpecError("code-exec: cannot open log_file '\(logFile)' for writing")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }
}

/// Remembers, per process, whether namespaces work, so only the first run pays for the probe.
final class NamespaceProbe: @unchecked Sendable {
    static let shared = NamespaceProbe()
    private let lock = NSLock()
    private var results: [String: (Bool, String)] = [:]
    private var noted = false

    func result(python: String) -> (Bool, String) {
        lock.lock()
        defer { lock.unlock() }
        if let r = results[python] { return r }
        let r = PythonSandbox.namespacesWork(python: python)
        results[python] = r
        return r
    }

    /// What `isolation=rlimits` does not contain.
    static let uncontained = "rlimits, an unprivileged uid (when the host runs as root) and a temporary folder as the only " +
        "containment: the network and world-readable host files stay reachable, writes outside the folder land on the host, " +
        "and a process that calls setsid() outlives the run until its CPU limit"

    /// Says once per process what running without namespaces leaves open.
    func warnUncontainedOnce() {
        lock.lock()
        defer { lock.unlock() }
        guard !noted else { return }
        noted = true
        FileHandle.standardError.write(Data("code-exec: warning: isolation=rlimits runs untrusted code with \(Self.uncontained)\n".utf8))
    }
}
