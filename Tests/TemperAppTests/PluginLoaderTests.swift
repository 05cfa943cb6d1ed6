import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// The in-tree plugins load through the loader into ONE core, and bad files are refused with
/// messages naming the file and the problem while the rest keep loading.
final class PluginLoaderTests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["sgd", "exact-match"])
    }

    func testBuiltPluginsLoadWithoutDiagnostics() throws {
        let report = TestPlugins.loadBuilt()
        XCTAssertEqual(report.diagnostics, [])
        let libraries = Set(ComponentRegistry.shared.all().map { ($0.library as NSString).lastPathComponent })
        XCTAssertTrue(libraries.isSuperset(of: ["libTemperPluginOptimizers.so", "libTemperPluginRewards.so", "libTemperPluginCExactMatch.so"]),
                      "\(libraries)")
        XCTAssertEqual(ComponentRegistry.shared.descriptor(named: "adamw")?.kind, .optimizer)
        XCTAssertEqual(ComponentRegistry.shared.descriptor(named: "exact-match")?.kind, .reward)
    }

    func testCoreIsMappedOnceAndSharedWithPlugins() throws {
        // The optimizer registered from the plugin is found in the host's registry, and its
        // instance casts to the host's protocol type: one set of type metadata.
        let optimizer = try ComponentRegistry.shared.optimizer("sgd:lr=0.5")
        XCTAssertEqual(optimizer.learningRate, 0.5)
        XCTAssertTrue(type(of: optimizer as Any) is any Optimizer.Type)

        // The registry accessor resolved from inside the plugin's link scope is the host's.
        let plugin = TestPlugins.buildFolder + "/libTemperPluginOptimizers.so"
        let pluginHandle = try XCTUnwrap(dlopen(plugin, RTLD_NOW | RTLD_NOLOAD), "plugin not loaded")
        let hostHandle = try XCTUnwrap(dlopen(nil, RTLD_NOW))
        let symbol = "$s10TemperCore17ComponentRegistryC6sharedACvau"
        let fromPlugin = try XCTUnwrap(dlsym(pluginHandle, symbol))
        let fromHost = try XCTUnwrap(dlsym(hostHandle, symbol))
        XCTAssertEqual(fromPlugin, fromHost)
        // dladdr's answer, read from the process's mappings (Glibc's module does not export dladdr).
        let mappings = try Self.mappings()
        let address = UInt(bitPattern: fromPlugin)
        let library = try XCTUnwrap(mappings.first { $0.range.contains(address) }?.path, "\(address) in \(mappings)")
        XCTAssertTrue(library.hasSuffix("/libTemperKit.so"), library)

        // And exactly one libTemperKit.so file is mapped into the process.
        let mapped = Set(mappings.map(\.path).filter { $0.hasSuffix("libTemperKit.so") })
        XCTAssertEqual(mapped.count, 1, "\(mapped)")
    }

    /// File-backed mappings of this process from /proc/self/maps.
    static func mappings() throws -> [(range: Range<UInt>, path: String)] {
        // Read to EOF explicitly: procfs reports size 0, so size-based reads can stop early.
        let handle = try XCTUnwrap(FileHandle(forReadingAtPath: "/proc/self/maps"))
        defer { try? handle.close() }
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[5].hasPrefix("/") else { return nil }
            let bounds = fields[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
            guard bounds.count == 2 else { return nil }
            return (bounds[0]..<bounds[1], String(fields[5]))
        }
    }

    func testBadPluginsAreDiagnosedAndOthersStillLoad() throws {
        let dir = try makeTemporaryFolder("bad-plugins")
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

        try "this is not a library".write(toFile: path("notelf.so"), atomically: true, encoding: .utf8)
        try TestSupport.compileC("int some_function(void) { return 1; }\n", to: dir.appendingPathComponent("noentry.so"))
        try TestSupport.compileC("""
            extern int temper_function_that_does_not_exist(void);
            int temper_plugin_entry(unsigned v, const char *h, void *r) { return temper_function_that_does_not_exist(); }
            """, to: dir.appendingPathComponent("undefined.so"))
        // Plugins built for another ABI answer with their own version and hash through the frozen reply layout.
        let reply = """
            #include <stdint.h>
            #include <stdlib.h>
            #include <string.h>
            struct reply { const char *library; uint32_t version; const uint8_t *hash; intptr_t hash_length; const void *registry; char *message; };
            """
        try TestSupport.compileC(reply + """
            int32_t temper_plugin_entry(uint32_t v, const char *h, struct reply *r) {
                r->version = 999; r->hash = (const uint8_t *)"0123456789abcdef"; r->hash_length = 16; return 1;
            }
            """, to: dir.appendingPathComponent("oldabi.so"))
        try TestSupport.compileC(reply + """
            int32_t temper_plugin_entry(uint32_t v, const char *h, struct reply *r) {
                r->version = v; r->message = strdup("the frobnicator is missing"); return 2;
            }
            """, to: dir.appendingPathComponent("failing.so"))
        // A C reward whose name is taken already, and one that is fine.
        let rewardC = "double score(const char *p, const char *c, const char *const *cols) { return cols[0] ? 2.0 : -1.0; }\n"
        try TestSupport.compileC(rewardC, to: dir.appendingPathComponent("dupname.so"))
        try #"{"components":[{"kind":"reward","name":"exact-match","symbol":"score","signature":"double(const char*,const char*,const char*const*)"}]}"#
            .write(toFile: path("dupname.json"), atomically: true, encoding: .utf8)
        try TestSupport.compileC(rewardC, to: dir.appendingPathComponent("good.so"))
        try #"{"components":[{"kind":"reward","name":"has-hint","summary":"2 if a hint","symbol":"score","columns":["hint"],"signature":"double f(const char *prompt, const char *completion, const char *const *columns)"}]}"#
            .write(toFile: path("good.json"), atomically: true, encoding: .utf8)
        try TestSupport.compileC(rewardC, to: dir.appendingPathComponent("badmanifest.so"))
        try #"{"components":[{"kind":"reward","name":"x","symbol":"score","signatur":"double()"}]}"#
            .write(toFile: path("badmanifest.json"), atomically: true, encoding: .utf8)

        // A folder whose name looks like a library (issue 15: it trapped every command that loads plugins).
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("folder.so"), withIntermediateDirectories: false)

        let report = PluginLoader.shared.load(PluginSearchPath(pluginFolders: [dir.path]))
        let reasons = Dictionary(report.diagnostics.map { (($0.file as NSString).lastPathComponent, $0.reason) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(reasons["notelf.so"], "not an ELF shared library")
        XCTAssertEqual(reasons["noentry.so"], "not a Temper plugin: no temper_plugin_entry entry point (a Swift plugin defines it with " +
                       "TemperPlugin.register; a C plugin needs a manifest <library>.json or temper-plugin.json beside it)")
        XCTAssertTrue(reasons["undefined.so"]?.hasPrefix("missing symbol temper_function_that_does_not_exist") == true, reasons["undefined.so"] ?? "nil")
        XCTAssertEqual(reasons["oldabi.so"], "was built for ABI v999 (hash 0123456789abcdef), this temper is v\(TemperABI.hostVersion) " +
                       "(hash \(TemperABI.hostInterfaceHash)): rebuild it against this TemperKit")
        XCTAssertEqual(reasons["failing.so"], "registration failed: the frobnicator is missing")
        XCTAssertEqual(reasons["folder.so"], "is a directory, not a shared library")
        let rewards = ComponentRegistry.shared.descriptor(named: "exact-match")!.library
        XCTAssertEqual(reasons["dupname.json"], "duplicate component name 'exact-match': registered by \(rewards) and again by \(path("dupname.so"))")
        XCTAssertEqual(reasons["badmanifest.json"], "manifest \(path("badmanifest.json")): components[0]: unknown field 'signatur'. " +
                       "Did you mean 'signature'? (fields: kind, name, summary, symbol, signature, columns, parameters)")
        XCTAssertEqual(report.diagnostics.count, 8, "\(report.diagnostics)")
        XCTAssertEqual(report.diagnostics.map(\.description).first { $0.contains("notelf") }, "plugin \(path("notelf.so")): not an ELF shared library")

        // The good one loaded next to all of them and is callable.
        XCTAssertEqual(report.loaded.map { ($0 as NSString).lastPathComponent }, ["good.json"])
        let reward = try ComponentRegistry.shared.reward("has-hint").reward
        XCTAssertEqual(try reward.score(RewardBatch(prompts: ["a", "b"], completions: ["x", "y"], columns: ["hint": [.string("h"), .null]])), [2, -1])

        // Loading again reports the same refusals, and the good library is not registered twice.
        let again = PluginLoader.shared.load(PluginSearchPath(pluginFolders: [dir.path]))
        XCTAssertEqual(again.diagnostics, report.diagnostics)
        XCTAssertEqual(again.loaded, [])
    }

    func testMissingPluginPathsAreReported() {
        var path = PluginSearchPath.standard(environment: ["TEMPER_PLUGIN_PATH": "/nonexistent/temper"], extra: ["/nonexistent/lib.so"])
        XCTAssertEqual(path.pluginFolders, ["/nonexistent/temper"])
        XCTAssertEqual(path.files, ["/nonexistent/lib.so"])
        XCTAssertEqual(path.buildFolders, [TestPlugins.buildFolder])
        path.buildFolders = []
        let report = PluginLoader.shared.load(path)
        XCTAssertEqual(report.diagnostics, [
            PluginDiagnostic(file: "/nonexistent/temper", reason: "plugin folder does not exist or cannot be read"),
            PluginDiagnostic(file: "/nonexistent/lib.so", reason: "no such file or folder"),
        ])
    }
}
