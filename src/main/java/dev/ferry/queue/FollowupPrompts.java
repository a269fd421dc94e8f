package dev.ferry.queue;

import java.util.ArrayList;
import java.util.List;

/** The exact prompt texts of SPEC 3.2: the collect prompt, the overflow header and its summary lines. */
final class FollowupPrompts {

    static final String COLLECT_HEADER = "[Queued messages while agent was busy]";
    static final int SUMMARY_LINE_LIMIT = 160;

    private FollowupPrompts() {}

    /** The header, then per item a block {@code ---} / {@code Queued #n} / text, blocks separated by blank lines. */
    static String collect(List<QueuedItem> items) {
        List<String> blocks = new ArrayList<>(items.size() + 1);
        blocks.add(COLLECT_HEADER);
        for (int i = 0; i < items.size(); i++) {
            blocks.add("---\nQueued #" + (i + 1) + "\n" + items.get(i).text());
        }
        return String.join("\n\n", blocks);
    }

    /** {@code [Queue overflow] Dropped N message(s) due to cap.}, then {@code Summary:} and a line per dropped item. */
    static String overflowHeader(int dropped, List<String> summaryLines) {
        StringBuilder header = new StringBuilder("[Queue overflow] Dropped ").append(dropped)
                .append(" message(s) due to cap.");
        if (!summaryLines.isEmpty()) {
            header.append("\nSummary:");
            summaryLines.forEach(line -> header.append("\n- ").append(line));
        }
        return header.toString();
    }

    /** The text with whitespace collapsed, cut to {@value #SUMMARY_LINE_LIMIT} characters ending in an ellipsis. */
    static String summaryLine(String text) {
        String collapsed = text.strip().replaceAll("\\s+", " ");
        if (collapsed.length() <= SUMMARY_LINE_LIMIT) {
            return collapsed;
        }
        return collapsed.substring(0, SUMMARY_LINE_LIMIT - 1).stripTrailing() + "…";
    }

    static String withOverflow(String overflowHeader, String prompt) {
        return overflowHeader == null ? prompt : overflowHeader + "\n\n" + prompt;
    }
}
