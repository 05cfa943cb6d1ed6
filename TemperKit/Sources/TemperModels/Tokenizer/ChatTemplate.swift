import Foundation

/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable, Codable {
    /// "system", "user", "assistant", ...
    public var role: String
    /// The message text.
    public var content: String

    /// Creates a message.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A rendered chat prompt, with where the messages' own text lies in it, so that encoding can refuse
/// to read control tokens out of message content.
public struct RenderedChat: Sendable, Equatable {
    /// The prompt text.
    public var text: String
    /// UTF-8 byte ranges of `text` that came from message content.
    public var contentRanges: [Range<Int>]
}

/// The chat template families Temper renders natively, recognised from a model's Jinja template.
///
/// Temper has no Jinja interpreter: it recognises the template by its characteristic markers and
/// renders the same text in Swift. A template it does not recognise, or one with features it does
/// not reproduce (dated system headers, reasoning blocks), is an error, never an approximation.
public enum ChatTemplate: Sendable, Equatable {
    /// `<|im_start|>role\ncontent<|im_end|>\n` per message (SmolLM2, Qwen2, Qwen2.5). When the
    /// template inserts a system message for chats that do not start with one, that text is
    /// `defaultSystemPrompt`.
    case chatML(defaultSystemPrompt: String?)
    /// `<|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>` per message, content trimmed,
    /// the BOS token first (Llama 3 / 3.0 Instruct).
    case llama3

    /// A short name for messages.
    public var name: String {
        switch self {
        case .chatML: return "ChatML"
        case .llama3: return "Llama-3"
        }
    }

    /// Recognises the family of a Jinja template source.
    public init(source: String) throws {
        func refuse(_ reason: String) -> TokenizerError {
            let excerpt = String(source.prefix(60)).replacingOccurrences(of: "\n", with: "\\n")
            return .unsupportedChatTemplate(excerpt: excerpt, reason: reason)
        }
        let normalized = Self.normalizeForMatching(source)
        if source.contains("<|im_start|>") && source.contains("<|im_end|>") {
            if source.contains("<think>") {
                throw refuse("it handles reasoning (<think>) blocks, which Temper does not render")
            }
            guard normalized.contains("message['role']"), normalized.contains("message['content']"),
                  normalized.contains("add_generation_prompt"), source.contains("<|im_start|>assistant") else {
                throw refuse("it uses <|im_start|> but not the ChatML message layout")
            }
            guard Self.everyEndMarkerIsFollowedByNewline(source) else {
                throw refuse("a ChatML variant without a newline after <|im_end|>")
            }
            let checksFirstRole = normalized.contains("messages[0]['role']!='system'")
                || normalized.contains("messages[0]['role']=='system'")
            let prompt = Self.literalSystemPrompt(in: source)
            switch (checksFirstRole, prompt) {
            case (true, let prompt?): self = .chatML(defaultSystemPrompt: prompt)
            case (false, nil): self = .chatML(defaultSystemPrompt: nil)
            case (true, nil): throw refuse("it builds a default system message Temper cannot read")
            case (false, _?): throw refuse("it writes a fixed system message under conditions Temper does not recognise")
            }
            return
        }
        if source.contains("<|start_header_id|>") && source.contains("<|eot_id|>") {
            if source.contains("Cutting Knowledge Date") || source.contains("<|python_tag|>") {
                throw refuse("the Llama 3.1+ template (dated system header, tool calls) is not implemented")
            }
            guard normalized.contains("message['role']"), normalized.contains("message['content']|trim"),
                  normalized.contains("bos_token"), normalized.contains("add_generation_prompt") else {
                throw refuse("it uses Llama 3 markers but not the Llama 3 message layout")
            }
            self = .llama3
            return
        }
        throw refuse("it is neither a ChatML nor a Llama 3 template")
    }

    /// Renders `messages`; `addGenerationPrompt` appends the header of the assistant's next turn.
    /// `bosToken` is the text of the BOS token, which Llama 3 prompts start with.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String?) throws -> RenderedChat {
        guard let first = messages.first else { throw TokenizerError.emptyChat }
        var builder = ChatTextBuilder()
        switch self {
        case let .chatML(defaultSystemPrompt):
            if let defaultSystemPrompt, first.role != "system" {
                builder.template("<|im_start|>system\n" + defaultSystemPrompt + "<|im_end|>\n")
            }
            for message in messages {
                // Tool results are rewrapped by tool-aware ChatML templates; refuse them rather than guess.
                guard message.role != "tool" else { throw TokenizerError.unsupportedMessage(role: message.role, template: name) }
                builder.template("<|im_start|>" + message.role + "\n")
                builder.content(message.content)
                builder.template("<|im_end|>\n")
            }
            if addGenerationPrompt { builder.template("<|im_start|>assistant\n") }
        case .llama3:
            guard let bosToken else {
                throw TokenizerError.unsupportedChatTemplate(excerpt: name, reason: "the tokenizer has no BOS token, which the template starts with")
            }
            builder.template(bosToken)
            for message in messages {
                builder.template("<|start_header_id|>" + message.role + "<|end_header_id|>\n\n")
                builder.content(Self.jinjaTrim(message.content))
                builder.template("<|eot_id|>")
            }
            if addGenerationPrompt { builder.template("<|start_header_id|>assistant<|end_header_id|>\n\n") }
        }
        return builder.result
    }

    /// Jinja's `trim` (Python `str.strip()`): leading and trailing whitespace removed.
    private static func jinjaTrim(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The template with whitespace outside quotes removed, double quotes turned into single ones and
    /// `x.role` spelled `x['role']`, so that equivalent Jinja spellings compare equal.
    private static func normalizeForMatching(_ source: String) -> String {
        var text = source.replacingOccurrences(of: "\"", with: "'")
        text = text.replacingOccurrences(of: "message.role", with: "message['role']")
        text = text.replacingOccurrences(of: "message.content", with: "message['content']")
        text = text.replacingOccurrences(of: "messages[0].role", with: "messages[0]['role']")
        var out = ""
        var inQuote = false
        for character in text {
            if character == "'" { inQuote.toggle() }
            if !inQuote && character.isWhitespace { continue }
            out.append(character)
        }
        return out
    }

    /// Whether each `<|im_end|>` is followed by a newline, written literally or as `\n` in a Jinja
    /// string, possibly after closing the string and concatenating (`'<|im_end|>' + '\n'`).
    private static func everyEndMarkerIsFollowedByNewline(_ source: String) -> Bool {
        var searchStart = source.startIndex
        while let marker = source.range(of: "<|im_end|>", range: searchStart..<source.endIndex) {
            var rest = source[marker.upperBound...].drop { $0 == "'" || $0 == "\"" || $0 == " " || $0 == "+" }
            if rest.hasPrefix("}}") || rest.hasPrefix("-}}") {
                // `{{ ... '<|im_end|>' }}{{ '\n' }}` style: the newline follows in the next output block.
                rest = rest.drop { $0 != "{" }.dropFirst(2).drop { $0 == "-" || $0 == " " || $0 == "'" || $0 == "\"" }
            }
            guard rest.hasPrefix("\n") || rest.hasPrefix("\\n") else { return false }
            searchStart = marker.upperBound
        }
        return true
    }

    /// The first default system prompt written as a plain string literal:
    /// `'<|im_start|>system\n<text><|im_end|>` where `<text>` contains no quote or Jinja syntax.
    private static func literalSystemPrompt(in source: String) -> String? {
        var searchStart = source.startIndex
        while let head = source.range(of: "<|im_start|>system", range: searchStart..<source.endIndex) {
            searchStart = head.upperBound
            var rest = source[head.upperBound...]
            if rest.hasPrefix("\\n") { rest = rest.dropFirst(2) } else if rest.hasPrefix("\n") { rest = rest.dropFirst() } else { continue }
            guard let end = rest.range(of: "<|im_end|>") else { continue }
            let body = rest[..<end.lowerBound]
            guard !body.isEmpty, !body.contains(where: { "'\"{}".contains($0) }) else { continue }
            return unescapeJinjaString(String(body))
        }
        return nil
    }

    /// Resolves the backslash escapes of a Jinja (Python) string literal.
    private static func unescapeJinjaString(_ text: String) -> String {
        var out = ""
        var escaping = false
        for character in text {
            if escaping {
                switch character {
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: out.append(character)
                }
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}

/// Accumulates template text and message content, recording where the content lies.
private struct ChatTextBuilder {
    private var text = ""
    private var utf8Count = 0
    private var ranges = [Range<Int>]()

    mutating func template(_ piece: String) {
        text += piece
        utf8Count += piece.utf8.count
    }

    mutating func content(_ piece: String) {
        let start = utf8Count
        template(piece)
        if utf8Count > start { ranges.append(start..<utf8Count) }
    }

    var result: RenderedChat { RenderedChat(text: text, contentRanges: ranges) }
}
