package org.unetmm.rpc.example;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import org.unetmm.rpc.RpcClient;

/**
 * The typed side of {@link KeyValueService}: builds each request in a direct buffer of its own
 * (the NIC reads it zero-copy; it is the NIC's until the call completes) and hands the response
 * buffer to the RPC client.
 */
public final class KeyValueClient {
    private final RpcClient rpc;

    /**
     * A client over a connected RPC client, which it uses but does not own.
     *
     * @param rpc connected to a server running {@link KeyValueService}
     */
    public KeyValueClient(RpcClient rpc) {
        this.rpc = rpc;
    }

    /**
     * Stores {@code value}'s bytes, position to limit, under {@code key}, replacing any value before.
     *
     * @param key   the key, UTF-8 on the wire
     * @param value the value; copied into the request before this returns
     * @return a future completed when the server stored it
     */
    public CompletableFuture<Void> put(String key, ByteBuffer value) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        ByteBuffer request = ByteBuffer.allocateDirect(2 + k.length + value.remaining());
        request.putShort(0, Short.reverseBytes((short) k.length)).put(2, k).put(2 + k.length, value, value.position(),
                value.remaining());
        return rpc.call(KeyValueService.PUT, request, 0, request.capacity(), ByteBuffer.allocateDirect(0), 0, 0)
                .thenApply(n -> null);
    }

    /**
     * Reads the value of {@code key} into {@code into} (from index 0); the future gives its length.
     *
     * @param key  the key
     * @param into where the value is copied, from index 0
     * @return the future of the value's length; it fails with {@link KeyValueService#NOT_FOUND} as the code
     */
    public CompletableFuture<Integer> get(String key, ByteBuffer into) {
        ByteBuffer request = keyBuffer(key);
        return rpc.call(KeyValueService.GET, request, 0, request.capacity(), into, 0, into.capacity());
    }

    /**
     * Deletes the value of {@code key}.
     *
     * @param key the key
     * @return a future completed when the server deleted it; it fails with {@link KeyValueService#NOT_FOUND} as the
     *         code
     */
    public CompletableFuture<Void> delete(String key) {
        ByteBuffer request = keyBuffer(key);
        return rpc.call(KeyValueService.DELETE, request, 0, request.capacity(), ByteBuffer.allocateDirect(0), 0, 0)
                .thenApply(n -> null);
    }

    private static ByteBuffer keyBuffer(String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocateDirect(k.length).put(0, k);
    }
}
