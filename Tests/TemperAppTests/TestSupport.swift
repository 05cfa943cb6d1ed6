import Foundation
import TemperCore

/// What only the app tests need: running programs (`temper`, `swift`, `cc`) and compiling C
/// libraries. Paths, plugin loading and temporary folders come from TemperTestSupport.
enum TestSupport {
    /// Runs a program and returns its exit status, stdout and stderr.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil,
                    environment: [String: String]? = nil) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain both pipes before waiting, so a chatty child cannot block on a full pipe.
        final class Box: @unchecked Sendable { var data = Data() }
        let outBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outBox.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outBox.data, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// Compiles C source into a shared library at `output` with the system C compiler.
    static func compileC(_ source: String, to output: URL) throws {
        let file = output.deletingPathExtension().appendingPathExtension("c")
        try source.write(to: file, atomically: true, encoding: .utf8)
        let r = try run("/usr/bin/cc", ["-shared", "-fPIC", "-O1", "-o", output.path, file.path])
        guard r.status == 0 else { throw SpecError("cc failed for \(file.path): \(r.err)") }
    }
}
