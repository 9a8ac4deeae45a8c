/** OpenAI's embeddings answer (asked for as floats) as Ollama's `/api/embed` writes it. */
export function ollamaEmbedAnswer(openAi: Record<string, unknown>, model: string, startedAt: number): object {
  const data = Array.isArray(openAi.data) ? (openAi.data as unknown[]) : [];
  const embeddings = data
    .filter((item): item is { index?: unknown; embedding: unknown } => typeof item === 'object' && item !== null && 'embedding' in item)
    .map((item, position) => ({ index: typeof item.index === 'number' ? item.index : position, embedding: item.embedding }))
    .sort((a, b) => a.index - b.index)
    .map((item) => (Array.isArray(item.embedding) ? (item.embedding as number[]) : []));
  const usage = openAi.usage as { prompt_tokens?: unknown } | undefined;
  return {
    model,
    embeddings,
    total_duration: Math.round((performance.now() - startedAt) * 1e6),
    load_duration: 0,
    prompt_eval_count: typeof usage?.prompt_tokens === 'number' ? usage.prompt_tokens : 0,
  };
}
