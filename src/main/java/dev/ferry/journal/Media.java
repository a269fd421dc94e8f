package dev.ferry.journal;

/** An attachment of an inbound message, kept by reference: Ferry never downloads it. */
public record Media(String url, String mimeType) {}
