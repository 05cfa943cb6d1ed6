import Foundation
@testable import TemperCore
import XCTest

/// A library dlopen would crash on (truncated: SIGBUS) or misreport (another CPU: "No such file or
/// directory") is refused before it is mapped, with the reason (issue 15).
final class ELFCheckTests: XCTestCase {
    /// A shared library this process has mapped (the Swift runtime's or the C library): a real
    /// shared object for this machine.
    private func realLibrary() throws -> Data {
        let maps = try String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
        let path = try XCTUnwrap(maps.split(separator: "\n").compactMap { line in
            line.split(separator: " ", omittingEmptySubsequences: true).last.map(String.init)
        }.first { $0.hasPrefix("/") && ($0.hasSuffix(".so") || $0.contains(".so.")) })
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    private func reason(_ bytes: Data) throws -> String? {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("elfcheck-\(UUID().uuidString).so")
        try bytes.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        do { try ELFCheck.check(url.path); return nil } catch let e as SpecError { return e.message }
    }

    func testWholeLibrariesPassAndDamagedOnesAreNamed() throws {
        let lib = try realLibrary()
        XCTAssertNil(try reason(lib))
        let cut = try XCTUnwrap(try reason(lib.prefix(lib.count * 3 / 5)))
        XCTAssertTrue(cut.hasPrefix("is truncated: its section header table ends at byte "), cut)
        XCTAssertTrue(cut.hasSuffix(", the file has \(lib.count * 3 / 5) (an interrupted build or copy? rebuild it)"), cut)
        // Without section headers (they are optional) the loadable segments still do not fit.
        var noSections = lib.prefix(lib.count * 3 / 5)
        noSections[60] = 0; noSections[61] = 0
        XCTAssertTrue(try XCTUnwrap(try reason(noSections)).hasPrefix("is truncated: its loadable segment "))
        var other = lib
        other[18] = 40; other[19] = 0
        XCTAssertEqual(try reason(other), "is built for ELF machine 40, not this \(ELFCheck.hostMachine.name) machine (\(ELFCheck.hostMachine.code)); rebuild it here")
        var executable = lib
        executable[16] = 2; executable[17] = 0
        XCTAssertEqual(try reason(executable), "is an ELF file of type 2, not a shared library (type 3, ET_DYN)")
        var narrow = lib
        narrow[4] = 1
        XCTAssertEqual(try reason(narrow), "is a 32-bit ELF file; this temper is 64-bit")
        XCTAssertEqual(try reason(lib.prefix(4)), "is truncated: 4 bytes, shorter than an ELF header")
        XCTAssertEqual(try reason(Data("#!/bin/sh\n".utf8)), "not an ELF shared library")
        var noHeaders = lib
        noHeaders.replaceSubrange(32..<40, with: Data(repeating: 0xff, count: 8))
        XCTAssertEqual(try reason(noHeaders), "is corrupt: its program header table lies beyond any file (offset overflow)")
        noHeaders.replaceSubrange(32..<40, with: withUnsafeBytes(of: UInt64(lib.count - 8).littleEndian) { Data($0) })
        XCTAssertTrue(try XCTUnwrap(try reason(noHeaders)).hasPrefix("is truncated: its program header table ends at byte "))
    }
}
