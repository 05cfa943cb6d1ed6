extension Tokenizer {
    /// The recognised family of the model's chat template.
    public func chatTemplate() throws -> ChatTemplate {
        guard let source = chatTemplateSource else { throw TokenizerError.missingChatTemplate }
        return try ChatTemplate(source: source)
    }

    /// The prompt text the model's chat template produces for `messages`.
    public func applyChatTemplate(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> String {
        try renderChat(messages, addGenerationPrompt: addGenerationPrompt).text
    }

    /// Token ids of the rendered chat (no extra BOS: templates that need it write it themselves).
    /// Control tokens written inside message content stay plain text unless
    /// `parseSpecialTokensInContent`; either way the text around them is split exactly as when the
    /// whole rendered prompt is encoded.
    public func encodeChat(_ messages: [ChatMessage], addGenerationPrompt: Bool = true,
                           parseSpecialTokensInContent: Bool = false) throws -> [Int32] {
        let rendered = try renderChat(messages, addGenerationPrompt: addGenerationPrompt)
        return encode(rendered.text, parseSpecialTokens: true,
                      protectedRanges: parseSpecialTokensInContent ? [] : rendered.contentRanges)
    }

    private func renderChat(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> RenderedChat {
        try chatTemplate().render(messages, addGenerationPrompt: addGenerationPrompt,
                                  bosToken: bosTokenID.flatMap { token(for: $0) })
    }
}
