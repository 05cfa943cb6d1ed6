import ArgumentParser
import Foundation
import TemperCore

/// Options shared by every command that loads plugins.
struct PluginOptions: ParsableArguments {
    @Option(name: .customLong("plugin"), help: "Extra plugin library, manifest or folder (repeatable).")
    var plugins: [String] = []

    /// Loads every plugin on the standard search path plus `--plugin`; refused files become
    /// warnings on stderr.
    func loadPlugins() {
        let path = PluginSearchPath.standard(extra: plugins, sourcePluginFolders: SourceTree.pluginsFolders)
        let report = PluginLoader.shared.load(path)
        for d in report.diagnostics {
            FileHandle.standardError.write(Data("warning: \(d)\n".utf8))
        }
        if ComponentRegistry.shared.all().isEmpty, let hint = Self.unbuiltPluginsHint() {
            FileHandle.standardError.write(Data("warning: \(hint)\n".utf8))
        }
    }

    /// When this `temper` runs from a build folder of its source tree that holds no plugin library
    /// (`swift run temper` builds only the executable), what to build instead of a bare
    /// "no objectives are loaded" later.
    static func unbuiltPluginsHint() -> String? {
        guard let folder = PluginSearchPath.executableDirectory(),
              let configuration = ["release", "debug"].first(where: { folder.hasSuffix("/\($0)") }) else { return nil }
        let fm = FileManager.default
        let built = ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).contains { $0.hasPrefix("libTemperPlugin") && $0.hasSuffix(".so") }
        guard !built, !SourceTree.pluginsFolders.isEmpty else { return nil }
        return "no plugin libraries beside \(folder)/temper: `swift run` builds only the temper executable, not the "
            + "plugin libraries of Plugins/ it loads at run time. Build them all with "
            + "`swift build -c \(configuration)` (in \(SourceTree.root.path)), then run \(folder)/temper."
    }
}

/// `temper plugins`: what is loaded.
struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List the components of every loaded plugin, or show one.",
        subcommands: [List.self, Show.self],
        defaultSubcommand: List.self
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A table of every component: name, kind, library, summary.")

        @Option(help: "Only this kind (\(ComponentKind.allCases.map(\.rawValue).joined(separator: ", "))).")
        var kind: ComponentKind?

        @OptionGroup var options: PluginOptions

        func run() throws {
            options.loadPlugins()
            let rows = ComponentRegistry.shared.all(kind: kind).map {
                [$0.name, $0.kind.rawValue, ($0.library as NSString).lastPathComponent, $0.summary]
            }
            print(TextTable.render(header: ["NAME", "KIND", "LIBRARY", "SUMMARY"], rows: rows))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A component's parameters: types, defaults, ranges and docs.")

        @Argument(help: "Component name, as in `temper plugins`.")
        var name: String

        @OptionGroup var options: PluginOptions

        func run() throws {
            options.loadPlugins()
            guard let d = ComponentRegistry.shared.descriptor(named: name) else {
                let names = ComponentRegistry.shared.all().map(\.name)
                throw CommandError(description: "unknown component '\(name)'.\(Suggestions.closest(to: name, in: names).map { " Did you mean '\($0)'?" } ?? "")"
                                      + " Loaded: " + names.joined(separator: ", "))
            }
            print("\(d.name) (\(d.kind)) from \(d.library)")
            print(d.summary)
            guard !d.parameters.isEmpty else { print("\nNo parameters."); return }
            print("")
            let rows = d.parameters.map { p in
                [([p.name] + p.aliases).joined(separator: ", "), p.type.description,
                 p.defaultValue?.description ?? "(required)", p.range?.description ?? "", p.doc]
            }
            print(TextTable.render(header: ["PARAMETER", "TYPE", "DEFAULT", "RANGE", "DOC"], rows: rows))
        }
    }
}

/// Left-aligned columns separated by two spaces.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { c, cell in c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
