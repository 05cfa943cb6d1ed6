import ArgumentParser
import Foundation
import TemperCore

/// `temper new <kind> <Name> [--name registered-name]`: scaffolds a plugin from a template and
/// says which name it registers (derived from the type name unless `--name` chooses it).
struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Create Plugins/<Name>/ from templates/<kind>/ (kinds: \(PluginScaffold.kinds.joined(separator: ", ")))."
    )

    @Argument(help: "Template kind: \(PluginScaffold.kinds.joined(separator: ", ")).")
    var kind: String

    @Argument(help: ArgumentHelp("Plugin name, an identifier such as MyReward (also the Swift module and type name).", valueName: "Name"))
    var typeName: String

    @Option(name: .customLong("name"), help: "Registered name used in specs and `temper plugins` (lower-case words joined by '-'; default: derived from <Name>, RAdam → r-adam).")
    var registeredName: String?

    @Option(help: "Repository root holding templates/ and Plugins/ (default: the nearest enclosing one, else this temper's source tree).")
    var root: String?

    @OptionGroup var plugins: PluginOptions

    func run() throws {
        let rootURL = try root.map { URL(fileURLWithPath: $0) } ?? Self.findRoot()
        let component = registeredName ?? PluginScaffold.componentName(for: typeName)
        // A second component of that name would be refused at load time (and a PEFT template named
        // after a shipped method would claim its peft_type): say so now, before writing anything.
        plugins.loadPlugins()
        if let taken = ComponentRegistry.shared.descriptor(named: component) {
            throw ValidationError("'\(component)' is already registered (a \(taken.kind.rawValue) in \((taken.library as NSString).lastPathComponent)); "
                                  + "choose another name with --name")
        }
        let files = try PluginScaffold.create(kind: kind, name: typeName, component: component,
                                              templatesFolder: rootURL.appendingPathComponent("templates"),
                                              pluginsFolder: rootURL.appendingPathComponent("Plugins"))
        let stamped = try PluginScaffold.refreshManifestStamp(packageFile: rootURL.appendingPathComponent("Package.swift"),
                                                              pluginsFolder: rootURL.appendingPathComponent("Plugins"))
        print("Created Plugins/\(typeName)/, registered as '\(component)'\(registeredName == nil ? " (choose another with --name)" : ""):")
        for f in files { print("  \(f.path)") }
        if !stamped {
            print("Note: Package.swift has no '\(PluginScaffold.stampPrefix)...' line; run `swift build --manifest-cache none` once so SwiftPM sees the new folder.")
        }
        // The configuration of the README's build and scripts/test.sh: one incremental build for all.
        print("Next: swift build -c release --build-tests && swift test -c release --skip-build --filter \(typeName)Tests"
              + " && .build/release/temper plugins show \(component)")
    }

    /// The nearest folder at or above the working directory with templates/ and Package.swift.
    static func findRoot() throws -> URL {
        let fm = FileManager.default
        var dir = URL(fileURLWithPath: fm.currentDirectoryPath)
        while true {
            if fm.fileExists(atPath: dir.appendingPathComponent("templates").path),
               fm.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        if fm.fileExists(atPath: SourceTree.root.appendingPathComponent("templates").path) { return SourceTree.root }
        throw ValidationError("no templates/ folder found above \(fm.currentDirectoryPath); pass --root")
    }
}
