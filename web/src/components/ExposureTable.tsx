import type { ExposureSlice } from "../../../src/services/portfolioQueries.ts";
import { useI18n } from "../i18n/I18n.tsx";

/** One slice per row with its share of the book's limit drawn as a bar. */
export function ExposureTable({
  title,
  slices,
  label,
  testId,
}: {
  title: string;
  slices: ExposureSlice[];
  label: (key: string) => string;
  testId: string;
}) {
  const { t, money, number } = useI18n();
  const totalLimit = slices.reduce((sum, s) => sum + s.limit, 0);
  return (
    <section className="card" data-testid={testId}>
      <h3>{title}</h3>
      <table>
        <thead>
          <tr>
            <th>{t("portfolio.slice")}</th>
            <th className="num">{t("portfolio.accounts")}</th>
            <th className="num">{t("portfolio.limit")}</th>
            <th className="num">{t("portfolio.balance")}</th>
            <th className="bar-cell" />
          </tr>
        </thead>
        <tbody>
          {slices.map((s) => (
            <tr key={s.key}>
              <td>{label(s.key)}</td>
              <td className="num">{number(s.accounts)}</td>
              <td className="num">{money(s.limit)}</td>
              <td className="num">{money(s.balance)}</td>
              <td className="bar-cell">
                <span
                  className="bar"
                  style={{ width: `${totalLimit > 0 ? (100 * s.limit) / totalLimit : 0}%` }}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
