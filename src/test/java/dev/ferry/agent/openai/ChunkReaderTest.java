package dev.ferry.agent.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.Optional;

import org.junit.jupiter.api.Test;

class ChunkReaderTest {

    @Test
    void readsTheDeltaContent() throws IOException {
        ChunkReader.Chunk chunk = ChunkReader.chunk(
                "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}");
        assertThat(chunk.content()).isEqualTo("Hi");
        assertThat(chunk.finishReason()).isEmpty();
        assertThat(chunk.usage()).isEmpty();
    }

    @Test
    void aRoleChunkWithNullContentCarriesNoText() throws IOException {
        assertThat(ChunkReader.chunk("{\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":null}}]}").content()).isEmpty();
        assertThat(ChunkReader.chunk("{\"choices\":[{\"delta\":{}}]}").content()).isEmpty();
    }

    @Test
    void reasoningContentIsNotReplyText() throws IOException {
        assertThat(ChunkReader.chunk("{\"choices\":[{\"delta\":{\"reasoning_content\":\"thinking\"}}]}").content()).isEmpty();
        assertThat(ChunkReader.chunk("{\"choices\":[{\"delta\":{\"reasoning\":\"thinking\"}}]}").content()).isEmpty();
    }

    @Test
    void readsAFinishReasonOnlyChunk() throws IOException {
        ChunkReader.Chunk chunk = ChunkReader.chunk("{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}");
        assertThat(chunk.content()).isEmpty();
        assertThat(chunk.finishReason()).contains("stop");
    }

    @Test
    void readsUsageFromAChunkWithEmptyNullOrNoChoices() throws IOException {
        String usage = "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5,\"total_tokens\":17}";
        for (String choices : new String[] {"\"choices\":[],", "\"choices\":null,", ""}) {
            ChunkReader.Chunk chunk = ChunkReader.chunk("{" + choices + usage + "}");
            assertThat(chunk.usage()).contains(new ChunkReader.Usage(12, 5));
            assertThat(chunk.content()).isEmpty();
        }
    }

    @Test
    void readsAnErrorSentInPlaceOfAChunk() throws IOException {
        assertThat(ChunkReader.chunk("{\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\"}}").error())
                .contains("out of memory");
    }

    @Test
    void refusesDataThatIsNotAJsonObject() {
        assertThatThrownBy(() -> ChunkReader.chunk("not json")).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> ChunkReader.chunk("[1]")).isInstanceOf(IOException.class);
    }

    @Test
    void readsAWholeCompletionsMessageContentAndUsage() throws IOException {
        ChunkReader.Completion completion = ChunkReader.completion("{\"choices\":[{\"message\":{\"role\":\"assistant\","
                + "\"content\":\"Whole\",\"reasoning_content\":\"hidden\"},\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}");
        assertThat(completion.content()).isEqualTo("Whole");
        assertThat(completion.usage()).contains(new ChunkReader.Usage(3, 1));
    }

    @Test
    void readsOpenAiStyleErrorBodies() {
        assertThat(ChunkReader.errorMessage("{\"error\":{\"message\":\"Rate limit\",\"type\":\"x\",\"code\":null}}"))
                .contains("Rate limit");
        assertThat(ChunkReader.errorMessage("{\"error\":\"model not loaded\"}")).contains("model not loaded");
        assertThat(ChunkReader.errorMessage("<html>bad gateway</html>")).isEqualTo(Optional.empty());
    }
}
