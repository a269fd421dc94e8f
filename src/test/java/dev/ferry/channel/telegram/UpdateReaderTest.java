package dev.ferry.channel.telegram;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Media;

class UpdateReaderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long BOT = 777;
    private final UpdateReader reader = new UpdateReader("default", BOT, "FerryBot", true, List.of("*"));

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text.replace('\'', '"'));
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private InboundMessage accepted(UpdateReader with, String update) {
        UpdateReader.Read read = with.read(json(update), 1L);
        assertThat(read).isInstanceOf(UpdateReader.Accepted.class);
        return ((UpdateReader.Accepted) read).message();
    }

    private String ignored(UpdateReader with, String update) {
        UpdateReader.Read read = with.read(json(update), 1L);
        assertThat(read).isInstanceOf(UpdateReader.Ignored.class);
        return ((UpdateReader.Ignored) read).reason();
    }

    @Test
    void aPrivateMessageIsItsChatsConversationKeyedByItsMessageId() {
        InboundMessage message = accepted(reader, "{'update_id':5,'message':{'message_id':42,'from':{'id':100,'is_bot':false,"
                + "'first_name':'Ann'},'chat':{'id':100,'type':'private'},'date':1,'text':'hello'}}");

        assertThat(message.channel()).isEqualTo("telegram");
        assertThat(message.conversation()).isEqualTo("100");
        assertThat(message.sender()).isEqualTo("100");
        assertThat(message.messageId()).isEqualTo("42");
        assertThat(message.text()).isEqualTo("hello");
        assertThat(message.threadId()).isNull();
    }

    @Test
    void aGroupMessageIsAnsweredOnlyWhenItMentionsTheBotOrRepliesToIt() {
        String unmentioned = "{'update_id':6,'message':{'message_id':7,'from':{'id':100},'chat':{'id':-500,'type':'supergroup'},"
                + "'text':'just chatting'}}";
        String mentioned = "{'update_id':7,'message':{'message_id':8,'from':{'id':100},'chat':{'id':-500,'type':'supergroup'},"
                + "'text':'@ferrybot what time is it','entities':[{'type':'mention','offset':0,'length':9}]}}";
        String reply = "{'update_id':8,'message':{'message_id':9,'from':{'id':100},'chat':{'id':-500,'type':'group'},"
                + "'text':'and now?','reply_to_message':{'message_id':3,'from':{'id':777,'is_bot':true}}}}";

        assertThat(ignored(reader, unmentioned)).isEqualTo("not_mentioned");
        assertThat(accepted(reader, mentioned).text()).isEqualTo("what time is it");
        assertThat(accepted(reader, reply).conversation()).isEqualTo("-500");
        UpdateReader everything = new UpdateReader("default", BOT, "ferrybot", false, List.of("*"));
        assertThat(accepted(everything, unmentioned).text()).isEqualTo("just chatting");
    }

    @Test
    void aForumTopicIsAConversationOfItsOwnAndKeepsItsThreadForTheReply() {
        InboundMessage message = accepted(reader, "{'update_id':9,'message':{'message_id':11,'message_thread_id':4,"
                + "'is_topic_message':true,'from':{'id':100},'chat':{'id':-600,'type':'supergroup','is_forum':true},"
                + "'text':'@FerryBot hi','entities':[{'type':'mention','offset':0,'length':9}]}}");

        assertThat(message.conversation()).isEqualTo("-600:4");
        assertThat(message.threadId()).isEqualTo("4");
    }

    @Test
    void aCommandAddressedToTheBotLosesItsSuffixAndOneForAnotherBotIsIgnored() {
        String ours = "{'update_id':10,'message':{'message_id':12,'from':{'id':100},'chat':{'id':-500,'type':'supergroup'},"
                + "'text':'/status@FerryBot now','entities':[{'type':'bot_command','offset':0,'length':16}]}}";
        String theirs = "{'update_id':11,'message':{'message_id':13,'from':{'id':100},'chat':{'id':-500,'type':'supergroup'},"
                + "'text':'/status@otherbot','entities':[{'type':'bot_command','offset':0,'length':16}]}}";

        assertThat(accepted(reader, ours).text()).isEqualTo("/status now");
        assertThat(ignored(reader, theirs)).isEqualTo("other_bot");
    }

    @Test
    void aMentionOrACommandSentWithoutEntitiesIsStillRecognised() {
        String mentioned = "{'update_id':21,'message':{'message_id':18,'from':{'id':100},'chat':{'id':-500,'type':'group'},"
                + "'text':'hey @FerryBot, status?'}}";
        String command = "{'update_id':22,'message':{'message_id':19,'from':{'id':100},'chat':{'id':-500,'type':'group'},"
                + "'text':'/status@ferrybot'}}";
        String otherName = "{'update_id':23,'message':{'message_id':20,'from':{'id':100},'chat':{'id':-500,'type':'group'},"
                + "'text':'ask @ferrybotter instead'}}";

        assertThat(accepted(reader, mentioned).text()).isEqualTo("hey @FerryBot, status?");
        assertThat(accepted(reader, command).text()).isEqualTo("/status");
        assertThat(ignored(reader, otherName)).isEqualTo("not_mentioned");
    }

    @Test
    void mediaBecomesAPlaceholderWithTheCaptionAndKeepsTheFileId() {
        InboundMessage photo = accepted(reader, "{'update_id':12,'message':{'message_id':14,'from':{'id':100},"
                + "'chat':{'id':100,'type':'private'},'caption':'my cat','photo':[{'file_id':'small','width':90,'height':90},"
                + "{'file_id':'large','width':800,'height':800}]}}");
        InboundMessage voice = accepted(reader, "{'update_id':13,'message':{'message_id':15,'from':{'id':100},"
                + "'chat':{'id':100,'type':'private'},'voice':{'file_id':'v1','duration':3,'mime_type':'audio/ogg'}}}");

        assertThat(photo.text()).isEqualTo("[photo] my cat");
        assertThat(photo.media()).containsExactly(new Media("telegram:large", "image/jpeg"));
        assertThat(voice.text()).isEqualTo("[voice]");
        assertThat(voice.media()).containsExactly(new Media("telegram:v1", "audio/ogg"));
    }

    @Test
    void editsOtherUpdateKindsAndOtherBotsAreIgnoredByKind() {
        assertThat(ignored(reader, "{'update_id':14,'edited_message':{'message_id':1,'chat':{'id':1,'type':'private'},"
                + "'text':'x'}}")).isEqualTo("edited_message");
        assertThat(ignored(reader, "{'update_id':15,'callback_query':{'id':'q'}}")).isEqualTo("callback_query");
        assertThat(ignored(reader, "{'update_id':16}")).isEqualTo("other");
        assertThat(ignored(reader, "{'update_id':17,'message':{'message_id':2,'from':{'id':5,'is_bot':true},"
                + "'chat':{'id':5,'type':'private'},'text':'beep'}}")).isEqualTo("from_bot");
        assertThat(ignored(reader, "{'update_id':18,'message':{'text':'no ids'}}")).isEqualTo("malformed");
    }

    @Test
    void aSenderOutsideAllowFromIsIgnored() {
        UpdateReader onlyAnn = new UpdateReader("default", BOT, "ferrybot", true, List.of("100"));
        String fromAnn = "{'update_id':19,'message':{'message_id':16,'from':{'id':100},'chat':{'id':100,'type':'private'},'text':'hi'}}";
        String fromBob = "{'update_id':20,'message':{'message_id':17,'from':{'id':200},'chat':{'id':200,'type':'private'},'text':'hi'}}";

        assertThat(accepted(onlyAnn, fromAnn).sender()).isEqualTo("100");
        assertThat(ignored(onlyAnn, fromBob)).isEqualTo("not_allowed");
        UpdateReader byName = new UpdateReader("default", BOT, "ferrybot", true, List.of("@Bob_B"));
        String fromNamedBob = "{'update_id':24,'message':{'message_id':21,'from':{'id':200,'username':'bob_b'},"
                + "'chat':{'id':200,'type':'private'},'text':'hi'}}";
        assertThat(accepted(byName, fromNamedBob).sender()).isEqualTo("200");
        assertThat(ignored(byName, fromAnn)).isEqualTo("not_allowed");
    }
}
