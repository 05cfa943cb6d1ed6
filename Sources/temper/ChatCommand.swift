import ArgumentParser
import Foundation
import TemperCore

/// `temper chat`: an interactive conversation with a chat model, one line per user turn.
struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with a model interactively (end with Ctrl-D or /exit; /reset clears the history).")

    @OptionGroup var model: ModelOptions
    @Option(help: "A system message to start the conversation with.")
    var system: String?
    @OptionGroup var sampling: SamplingOptions

    func run() throws {
        let (pm, adapter) = try model.load()
        let options = try sampling.options(stopTokens: pm.stopTokenIds, vocabSize: pm.model.config.vocabSize)
        var messages: [ChatMessage] = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
        let opening = messages
        let adapted = adapter.map { " + \($0)" } ?? ""
        FileHandle.standardError.write(Data("temper chat: \(pm.source.lastPathComponent)\(adapted) (/reset, /exit)\n".utf8))
        while true {
            FileHandle.standardOutput.write(Data("> ".utf8))
            guard let line = readLine() else { break }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text == "/exit" { break }
            if text == "/reset" { messages = opening; continue }
            messages.append(ChatMessage(role: "user", content: text))
            let ids: [Int32]
            do { ids = try pm.tokenizer.encodeChat(messages) } catch { throw CommandError(description: "\(error)") }
            let (result, summary) = try streamGeneration(pm, prompt: ids, options: options, adapter: adapter)
            // Through the same unbuffered handle as the reply, so a piped transcript keeps its order.
            FileHandle.standardOutput.write(Data("\n".utf8))
            FileHandle.standardError.write(Data(summary.utf8))
            messages.append(ChatMessage(role: "assistant", content: result.text))
        }
    }
}
