import ArgumentParser
import Foundation

/// `--reference-python PATH` (or `$TEMPER_REFERENCE_PYTHON`): the Python that runs the reference
/// programs, shared by every benchmark that compares against one.
struct ReferenceOptions: ParsableArguments {
    @Option(name: .customLong("reference-python"),
            help: ArgumentHelp("The Python that runs the reference (scripts/reference/) in the same invocation (default: $\(ReferencePython.environmentVariable)).",
                               valueName: "path"))
    var referencePython: String?

    /// The interpreter asked for, by the option or else by the environment variable; nil when neither is set.
    var requested: String? {
        if let referencePython { return referencePython }
        guard let value = ProcessInfo.processInfo.environment[ReferencePython.environmentVariable], !value.isEmpty else { return nil }
        return value
    }

    func validate() throws {
        // A mistyped path fails here, before minutes of Temper's own measurement.
        if let path = requested, !FileManager.default.isExecutableFile(atPath: path) {
            let source = referencePython == nil ? "$\(ReferencePython.environmentVariable)" : "--reference-python"
            throw ValidationError("\(source) \(path): no executable file there (expected a Python interpreter, e.g. VENV/bin/python)")
        }
    }

    /// The reference interpreter for `threads` threads, or nil (with nothing printed) when none was asked for.
    func python(threads: Int) -> ReferencePython? {
        requested.map { ReferencePython(executable: $0, threads: threads) }
    }
}

/// A Python interpreter running the reference programs kept in `scripts/reference/` of the source tree.
///
/// Each program prints its result as one line on standard output (JSON for the PyTorch ones) and
/// progress on standard error; an import it lacks makes it exit non-zero, which is reported as the
/// reason no comparison was made rather than as a failure of the benchmark.
struct ReferencePython {
    /// Names the interpreter when `--reference-python` is not given.
    static let environmentVariable = "TEMPER_REFERENCE_PYTHON"

    /// `scripts/reference/` of the tree this binary was built from (recorded at compile time, like the
    /// `temper` CLI's source root): the programs stay readable files that run on their own.
    static let scriptsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/reference")

    /// What a user does to get the PyTorch comparison, printed whenever it was not made.
    static let howToCompare = "to measure PyTorch in the same run: python3 -m venv VENV && VENV/bin/pip install torch transformers peft gguf, "
        + "then pass --reference-python VENV/bin/python (or set \(environmentVariable))"

    /// Why a reference program gave no result.
    struct Problem: Error {
        let message: String
    }

    /// An interpreter path, or a name looked up on PATH (`python3`).
    let executable: String
    /// The thread count the reference must use: Temper's, so the ratio compares like with like.
    let threads: Int

    /// "torch 2.9.1, transformers 4.57.1, … (Python 3.11.7 at PATH)", or the import that failed.
    func versions(of modules: [String]) -> Result<String, Problem> {
        run("versions.py", modules).flatMap { text in
            guard let data = text.data(using: .utf8),
                  let found = (try? JSONSerialization.jsonObject(with: data)) as? [String: String] else {
                return .failure(Problem(message: "versions.py printed '\(text)', expected a JSON object of versions"))
            }
            let listed = modules.map { "\($0) \(found[$0] ?? "unknown")" }.joined(separator: ", ")
            return .success("\(listed) (Python \(found["python"] ?? "unknown") at \(executable))")
        }
    }

    /// Runs `scripts/reference/<script>` and decodes the last line it printed as `T`.
    func result<T: Decodable>(_ type: T.Type, of script: String, _ arguments: [String]) -> Result<T, Problem> {
        run(script, arguments).flatMap { text in
            let last = text.split(separator: "\n").last.map(String.init) ?? ""
            do {
                return .success(try JSONDecoder().decode(T.self, from: Data(last.utf8)))
            } catch {
                return .failure(Problem(message: "\(script) printed '\(last.prefix(200))', expected its JSON result (\(error))"))
            }
        }
    }

    /// Runs `scripts/reference/<script> arguments…` and returns its trimmed standard output.
    func run(_ script: String, _ arguments: [String]) -> Result<String, Problem> {
        let path = Self.scriptsFolder.appendingPathComponent(script).path
        guard FileManager.default.fileExists(atPath: path) else {
            return .failure(Problem(message: "no reference program at \(path) (the source tree this temper-bench was built from)"))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable, path] + arguments
        process.environment = environment
        // Standard error goes to a file, not a second pipe: a child filling one pipe while we block
        // reading the other would hang both.
        let errorLog = FileManager.default.temporaryDirectory.appendingPathComponent("temper-reference-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: errorLog.path, contents: nil),
              let errorHandle = try? FileHandle(forWritingTo: errorLog) else {
            return .failure(Problem(message: "could not create \(errorLog.path) for the reference's messages"))
        }
        defer { try? errorHandle.close(); try? FileManager.default.removeItem(at: errorLog) }
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = errorHandle
        do {
            try process.run()
        } catch {
            return .failure(Problem(message: "could not start \(executable): \(error.localizedDescription)"))
        }
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errorData = (try? Data(contentsOf: errorLog)) ?? Data()
        guard process.terminationStatus == 0 else {
            let lastLine = String(decoding: errorData, as: UTF8.self).split(separator: "\n")
                .last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map(String.init) ?? "no message"
            return .failure(Problem(message: "\(script) exited with status \(process.terminationStatus): \(lastLine)"))
        }
        return .success(String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// This process's environment with every BLAS / OpenMP pool sized to `threads`, without the
    /// OpenBLAS overrides some machines set for other tools (they pin a slower kernel or blocking,
    /// which would flatter the ratio), offline, so transformers never waits on a network, and
    /// without bytecode caches, so running the programs leaves no `__pycache__` in the source tree.
    private var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_CORETYPE"] = nil
        env["OPENBLAS_L2_SIZE"] = nil
        for name in ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"] { env[name] = String(threads) }
        env["HF_HUB_OFFLINE"] = "1"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env
    }
}
