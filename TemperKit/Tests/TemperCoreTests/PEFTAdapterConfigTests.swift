import Foundation
import TemperCore
import XCTest

/// A PEFT method that reads `PROBE` adapters unless they ask for `variant: true`; it only needs
/// its static declarations here (the host maps a config to a spec without building the method).
private final class ProbePEFT: LoadablePEFTMethod {
    static let name = "probe-peft"
    static let summary = "reads PROBE adapters (PEFTAdapterConfigTests)"
    static let parameters: [ParameterSpec] = [.int("r", default: 1, doc: "rank")]
    static let peftTypes = ["PROBE"]
    static func settings(from config: PEFTAdapterConfig) throws -> [(key: String, value: RawParameterValue)]? {
        try config.rejectSet(["layers_to_transform"])
        return config.fields["variant"] == .bool(true) ? nil : config.settings(["r", "absent"])
    }
    init(config: ComponentConfig) throws {}
    func apply(to model: any AdaptableModel) throws -> ParameterCount { throw SpecError("not applied in this test") }
    func trainableGroups() -> [ParameterGroup] { [] }
    func merge(into model: any AdaptableModel) throws {}
    func unmerge(from model: any AdaptableModel) throws {}
    func export() throws -> AdapterExport { AdapterExport(config: [:], tensors: [:]) }
    func load(_ adapter: AdapterExport) throws {}
}

/// The `peft_type` → method mapping comes from the loaded plugins' declarations, not from the host.
final class PEFTAdapterConfigTests: XCTestCase {
    private let registry = ComponentRegistry()

    override func setUpWithError() throws {
        try registry.register([ComponentDescriptor(ProbePEFT.self, library: "probe.so")])
    }

    private func spec(_ fields: [String: ColumnValue]) throws -> ComponentSpec {
        try PEFTAdapterConfig.spec(for: fields, source: "a/adapter_config.json", registry: registry)
    }

    func testThePluginThatDeclaresTheTypeBuildsTheSpec() throws {
        XCTAssertEqual(try spec(["peft_type": .string("PROBE"), "r": .number(4), "task_type": .string("CAUSAL_LM")]),
                       ComponentSpec(name: "probe-peft", settings: [("r", .text("4"))]))
    }

    func testUnknownUnclaimedAndUnsupportedConfigsNameTheFile() {
        let cases: [([String: ColumnValue], String)] = [
            (["peft_type": .string("LOHA")], "a/adapter_config.json: peft_type 'LOHA' is not read by any loaded PEFT plugin (they read PROBE)"),
            (["r": .number(4)], "a/adapter_config.json: missing the string field 'peft_type'"),
            (["peft_type": .string("PROBE"), "variant": .bool(true)],
             "a/adapter_config.json: peft_type 'PROBE' is claimed by none of probe-peft for these settings"),
            (["peft_type": .string("PROBE"), "layers_to_transform": .array([.number(0)])],
             "a/adapter_config.json: 'layers_to_transform' = [0] is not supported by Temper"),
            (["peft_type": .string("PROBE"), "num_transformer_submodules": .number(2)],
             "a/adapter_config.json: num_transformer_submodules = 2; Temper supports decoder-only models (1)"),
        ]
        for (fields, message) in cases {
            XCTAssertThrowsError(try spec(fields), message) { XCTAssertEqual("\($0)", message) }
        }
        XCTAssertThrowsError(try PEFTAdapterConfig.spec(for: ["peft_type": .string("LORA")], source: "x.json", registry: ComponentRegistry())) {
            XCTAssertEqual("\($0)", "x.json: peft_type 'LORA' is not read by any loaded PEFT plugin (they read none: is the PEFT plugin loaded?)")
        }
    }
}
