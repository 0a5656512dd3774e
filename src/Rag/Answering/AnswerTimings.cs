namespace T5Gemma2.Rag.Answering;

/// <summary>Where an answer's time went; <see cref="FirstToken"/> is from the question to the first answer text.</summary>
public sealed record AnswerTimings(TimeSpan Retrieve, TimeSpan Pack, TimeSpan FirstToken, TimeSpan Generate, TimeSpan Total);
