import Foundation
import TemperCore
import XCTest

private struct EntryProbe: RewardFunction {
    static let name = "entry-probe"
    static let summary = "registered by PluginEntryTests"
    static let parameters: [ParameterSpec] = []
    init(config: ComponentConfig) throws {}
    func score(_ batch: RewardBatch) throws -> [Float?] { batch.completions.map { _ in 1 } }
}

/// The plugin side of the entry point: version check, reply, registration and its errors.
final class PluginEntryTests: XCTestCase {
    private func call(version: UInt32, hash: String, _ body: (inout PluginRegistrar) throws -> Void) -> (Int32, PluginEntryReply) {
        "/plugins/libProbe.so".withCString { path in
            var reply = PluginEntryReply(libraryPath: path)
            let status = hash.withCString { h in withUnsafeMutablePointer(to: &reply) { TemperPlugin.register(version, h, $0, body) } }
            return (status, reply)
        }
    }

    private func hashText(_ reply: PluginEntryReply) -> String {
        String(decoding: UnsafeBufferPointer(start: reply.interfaceHash, count: reply.interfaceHashLength), as: UTF8.self)
    }

    func testMismatchedVersionOrHashReportsOwnValuesAndRegistersNothing() {
        for (version, hash) in [(TemperABI.version + 1, TemperABI.interfaceHash.description), (TemperABI.version, "ffffffffffffffff")] {
            let (status, reply) = call(version: version, hash: hash) { _ in XCTFail("registered despite a mismatch") }
            XCTAssertEqual(status, PluginEntryStatus.abiMismatch)
            XCTAssertEqual(reply.abiVersion, TemperABI.version)
            XCTAssertEqual(hashText(reply), TemperABI.interfaceHash.description)
            XCTAssertNil(reply.registry)
        }
    }

    func testMatchingABIRegistersIntoTheSharedRegistry() throws {
        let (status, reply) = call(version: TemperABI.version, hash: TemperABI.interfaceHash.description) { r in r.add(EntryProbe.self) }
        XCTAssertEqual(status, PluginEntryStatus.ok)
        XCTAssertEqual(reply.registry, UnsafeRawPointer(Unmanaged.passUnretained(ComponentRegistry.shared).toOpaque()))
        XCTAssertEqual(ComponentRegistry.shared.descriptor(named: "entry-probe")?.library, "/plugins/libProbe.so")

        // Registering the same name again fails with a message the host frees.
        let (again, failed) = call(version: TemperABI.version, hash: TemperABI.interfaceHash.description) { r in r.add(EntryProbe.self) }
        XCTAssertEqual(again, PluginEntryStatus.registrationFailed)
        let message = try XCTUnwrap(failed.message)
        XCTAssertEqual(String(cString: message),
                       "duplicate component name 'entry-probe': registered by /plugins/libProbe.so and again by /plugins/libProbe.so")
        free(message)
    }

    func testThrowingRegistrationIsReported() throws {
        let (status, reply) = call(version: TemperABI.version, hash: TemperABI.interfaceHash.description) { _ in
            throw SpecError("needs a GPU")
        }
        XCTAssertEqual(status, PluginEntryStatus.registrationFailed)
        let message = try XCTUnwrap(reply.message)
        XCTAssertEqual(String(cString: message), "needs a GPU")
        free(message)
    }

    func testNullReplyIsABadCall() {
        XCTAssertEqual(TemperPlugin.register(TemperABI.version, nil, nil) { _ in }, PluginEntryStatus.badCall)
    }

    func testHostValuesEqualTheInlinedOnes() {
        XCTAssertEqual(TemperABI.hostVersion, TemperABI.version)
        XCTAssertEqual(TemperABI.hostInterfaceHash, TemperABI.interfaceHash.description)
    }
}
