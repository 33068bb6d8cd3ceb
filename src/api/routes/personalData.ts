import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { exportBorrower } from "../../services/borrowerExport.ts";
import type { Headroom } from "../../services/headroom.ts";
import {
  erasePersonalData,
  maskPersonalData,
  masterKey,
  PersonalDataRefused,
  readPersonalData,
  storePersonalData,
} from "../../services/personalData.ts";
import { STAFF } from "../access.ts";
import { notFound, ProblemError, problemSchema } from "../problem.ts";

const params = z.object({ borrowerId: z.string().min(1).max(128) });
const personalData = z.object({
  name: z.string().trim().min(1).max(200),
  phone: z.string().regex(/^\+?[0-9][0-9 -]{5,19}$/, "a phone number: digits, spaces or dashes"),
  idNumber: z.string().regex(/^[0-9A-Za-z]{6,32}$/, "an ID number: 6-32 letters or digits"),
  bankAccount: z
    .string()
    .regex(/^[0-9A-Za-z ]{6,40}$/, "a bank account: 6-40 letters or digits")
    .nullable()
    .default(null),
});

/**
 * Personal data: written by integrations, stored only encrypted, shown whole to the borrower and
 * admins and masked to every other role; erased by destroying the borrower's key; exported whole.
 */
export const personalDataRoutes =
  (headroom: Headroom): FastifyPluginAsyncZod =>
  async (app) => {
    app.put(
      "/v1/borrowers/:borrowerId/personal-data",
      {
        bodyLimit: 4096, // a name, a phone, two numbers
        config: { access: { roles: ["integration"] } },
        schema: {
          summary: "Store a borrower's name, phone, ID number and bank account (encrypted at rest)",
          tags: ["personal data"],
          params,
          body: personalData,
          response: { 204: z.null(), 400: problemSchema, 404: problemSchema, 409: problemSchema },
        },
      },
      async (request, reply) => {
        try {
          await storePersonalData(
            headroom.store,
            masterKey(),
            [{ borrowerId: request.params.borrowerId, data: request.body }],
            headroom.clock(),
          );
        } catch (error) {
          if (error instanceof PersonalDataRefused)
            throw new ProblemError(
              error.status,
              error.status === 404 ? "Not Found" : "Conflict",
              error.message,
            );
          throw error;
        }
        return reply.status(204).send(null);
      },
    );

    app.get(
      "/v1/borrowers/:borrowerId/personal-data",
      {
        config: { access: { roles: STAFF, borrower: "borrowerId" } },
        schema: {
          summary: "A borrower's personal data: whole for the borrower and admins, masked for other roles",
          tags: ["personal data"],
          params,
          response: {
            200: z.object({
              borrowerId: z.string(),
              masked: z.boolean(),
              erased: z.boolean(),
              // Masked values no longer match the input patterns, so the answer is plain strings.
              data: z
                .object({
                  name: z.string(),
                  phone: z.string(),
                  idNumber: z.string(),
                  bankAccount: z.string().nullable(),
                })
                .nullable(),
            }),
            404: problemSchema,
          },
        },
      },
      async (request) => {
        const { borrowerId } = request.params;
        const data = await readPersonalData(headroom.store, masterKey(), borrowerId);
        if (data === null) throw notFound(`personal data of borrower ${borrowerId}`);
        const whole = request.principal?.role === "admin" || request.principal?.role === "borrower";
        if (data === "erased") return { borrowerId, masked: !whole, erased: true, data: null };
        return { borrowerId, masked: !whole, erased: false, data: whole ? data : maskPersonalData(data) };
      },
    );

    app.delete(
      "/v1/borrowers/:borrowerId/personal-data",
      {
        config: { access: { roles: [], borrower: "borrowerId" } },
        schema: {
          summary: "Erase a borrower's personal data by destroying their key (crypto-shredding)",
          tags: ["personal data"],
          params,
          response: { 204: z.null(), 404: problemSchema },
        },
      },
      async (request, reply) => {
        if (!(await erasePersonalData(headroom.store, request.params.borrowerId, headroom.clock())))
          throw notFound(`unerased personal data of borrower ${request.params.borrowerId}`);
        return reply.status(204).send(null);
      },
    );

    app.get(
      "/v1/borrowers/:borrowerId/export",
      {
        config: { access: { roles: [], borrower: "borrowerId" } },
        schema: {
          summary: "Everything held about a borrower, as JSON (data portability)",
          tags: ["personal data"],
          params,
          response: { 200: z.record(z.string(), z.unknown()), 404: problemSchema },
        },
      },
      async (request) => {
        const exported = await exportBorrower(
          headroom.store,
          masterKey(),
          request.params.borrowerId,
          headroom.clock(),
        );
        if (exported === null) throw notFound(`borrower ${request.params.borrowerId}`);
        return exported;
      },
    );
  };
