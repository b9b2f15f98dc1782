package org.unetmm.examples;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.rpc.RpcClient;
import org.unetmm.rpc.RpcException;
import org.unetmm.rpc.RpcServer;
import org.unetmm.rpc.example.KeyValueClient;
import org.unetmm.rpc.example.KeyValueService;

/**
 * A key-value server and its client in one process, each on its own loopback NIC, over a reliable
 * channel: PUT, GET (checked), DELETE, and a GET of the deleted key that must fail with NOT_FOUND.
 * Exits 0 when every step did what it should, 1 otherwise.
 */
public final class KeyValue {
    private KeyValue() {
    }

    public static void main(String[] args) throws Exception {
        int keys = 100;
        try (Nic serverNic = Nic.open(NicConfig.builder().transport("loopback:").build());
             Nic clientNic = Nic.open(NicConfig.builder().transport("loopback:").build());
             RpcServer server = RpcServer.open(serverNic)) {
            new KeyValueService().serveOn(server);
            try (RpcClient rpc = RpcClient.connect(clientNic, server.address())) {
                run(rpc, keys);
            }
            System.out.println("KeyValue: " + keys + " PUTs and GETs checked, DELETE then NOT_FOUND, server at "
                    + server.address());
        }
    }

    private static void run(RpcClient rpc, int keys) throws Exception {
        KeyValueClient kv = new KeyValueClient(rpc);
        for (int i = 0; i < keys; i++) {
            kv.put("key-" + i, value(i)).get(10, TimeUnit.SECONDS);
        }
        ByteBuffer into = ByteBuffer.allocateDirect(64);
        for (int i = 0; i < keys; i++) {
            int length = kv.get("key-" + i, into).get(10, TimeUnit.SECONDS);
            ByteBuffer expected = value(i);
            if (length != expected.remaining() || into.slice(0, length).mismatch(expected) != -1) {
                fail("GET key-" + i + " returned " + length + " B that differ from what was PUT");
            }
        }
        kv.delete("key-0").get(10, TimeUnit.SECONDS);
        try {
            kv.get("key-0", into).get(10, TimeUnit.SECONDS);
            fail("GET of a deleted key succeeded");
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof RpcException re) || re.code() != KeyValueService.NOT_FOUND) {
                fail("GET of a deleted key failed otherwise than NOT_FOUND: " + e.getCause());
            }
        }
    }

    private static ByteBuffer value(int i) {
        byte[] bytes = ("value-" + i).getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocateDirect(bytes.length).put(0, bytes);
    }

    private static void fail(String why) {
        System.err.println("KeyValue: " + why);
        System.exit(1);
    }
}
