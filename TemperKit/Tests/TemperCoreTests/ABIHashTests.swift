import Foundation
import TemperCore
import XCTest

/// Keeps `TemperABI.interfaceHash` equal to the hash of the plugin-interface sources, so a change
/// to what plugins compile against cannot ship without the constant (and so the plugins' check) moving.
final class ABIHashTests: XCTestCase {
    /// The plugin-facing sources, relative to Sources/TemperCore. Plugins compile against these
    /// (including the TemperModels types the protocols hand to plugins: parameters and linear layers).
    static let interfaceFiles = [
        "../TemperModels/Generation/GeneratedSequence.swift",
        "../TemperModels/Generation/GenerationOptions.swift",
        "../TemperModels/Model/Linear.swift",
        "../TemperModels/Model/NamedParameter.swift",
        "Parameters/ComponentConfig.swift",
        "Parameters/ParameterParsing.swift",
        "Parameters/ParameterSpec.swift",
        "Parameters/SpecError.swift",
        "Plugin/ComponentRegistry.swift",
        "Plugin/PluginEntry.swift",
        "Protocols/AdaptableModel.swift",
        "Protocols/Component.swift",
        "Protocols/DecodingSession.swift",
        "Protocols/LanguageModelHandle.swift",
        "Protocols/LoadablePEFTMethod.swift",
        "Protocols/Objective.swift",
        "Protocols/Optimizer.swift",
        "Protocols/PEFTMethod.swift",
        "Protocols/ParameterStateTable.swift",
        "Protocols/RewardFunction.swift",
        "Protocols/SavedAdapterTensors.swift",
        "Protocols/SearchStrategy.swift",
        "Protocols/StepScoring.swift",
        "Protocols/UpdateTarget.swift",
    ]

    static let coreSources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/TemperCore")

    /// FNV-1a 64 over each file's relative path, a NUL, its bytes and a NUL.
    static func interfaceHash() throws -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for file in interfaceFiles {
            let data = try Data(contentsOf: coreSources.appendingPathComponent(file))
            for byte in Array(file.utf8) + [0] + Array(data) + [0] {
                h ^= UInt64(byte)
                h = h &* 0x100_0000_01b3
            }
        }
        return String(h, radix: 16).leftPadded(to: 16)
    }

    func testInterfaceHashIsCurrent() throws {
        let actual = try Self.interfaceHash()
        XCTAssertEqual(TemperABI.interfaceHash.description, actual,
                       "interface changed: set TemperABI.interfaceHash to \(actual) (and bump TemperABI.version if the change breaks built plugins)")
    }

    func testEveryProtocolFileIsHashed() throws {
        let protocols = try FileManager.default.contentsOfDirectory(atPath: Self.coreSources.appendingPathComponent("Protocols").path)
        for f in protocols where f.hasSuffix(".swift") {
            XCTAssertTrue(Self.interfaceFiles.contains("Protocols/\(f)"), "Protocols/\(f) is plugin interface: add it to interfaceFiles")
        }
    }

    func testFNVMatchesKnownVector() {
        // FNV-1a 64 of "a" is af63dc4c8601ec8c (reference value from the FNV specification).
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in "a".utf8 { h ^= UInt64(b); h = h &* 0x100_0000_01b3 }
        XCTAssertEqual(String(h, radix: 16), "af63dc4c8601ec8c")
    }
}

private extension String {
    func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
